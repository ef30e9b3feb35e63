"""A deterministic, realistic data set of N families, bulk-inserted with SQLAlchemy Core.

Not through the API: 10,000 families through `registerFamily` would take many minutes. The
rows go in with one `insert()` executemany per table, keys chosen here, so children, carers,
notes and plans can point at their family without a round trip. PostgreSQL's sequences are
moved past the keys afterwards, so the app's own inserts (sessions, audit events) still work.

    python -m bench.seed --db sqlite --n 1000

Shape (the issue's "realistic data set"): 20 settings; per family 1-3 carers and 1-4
children, all carers related to all children; 1-3 history notes on the family, a confidential
note on 30% of families, 0-2 history notes on each person and a confidential one on 10%;
10% of families affiliated with a second setting (a tenth of those revoked); an open child
protection plan on 3% of children and an ended one on 2%.

Users (password PASSWORD):
  bench-manager  MANAGER in all settings (setting null): reads every family and every field.
  bench-half     MANAGER in settings 1-10 and ADMIN_OFFICER in settings 11-20: SECONDARY read
                 in every setting, so `families` without `settingId` lists every family, all
                 of it readable up to SECONDARY; CONFIDENTIAL read only in settings 1-10, so
                 a family's confidential notes only where its scope meets those (about half
                 the families): workload (b) asks for them, and the other half are denied.
  bench-reporting  LA_REPORTING: runs the reports (bench/reporting.py).
  bench-feed     CONTACTPOINT_FEED: replays the ContactPoint feed (bench/feed.py).
  keyworker-NN   PARENT_SUPPORT_WORKER in setting NN: the authors of the notes.

Activities (bench/activities.py): max(1, N / 400) per setting, weekly, 10 sessions each; the
register of each past session holds 8 people of families in the setting's scope (registered or
affiliated), 90% attended. Besides, REGISTER_SESSIONS activities of setting 1 ("Bench register
…") with one session each and an empty register: the registers workload (r) enters.
The ContactPoint outbox (bench/feed.py): an UPSERT for every child in key order (what
migration 0008's backfill writes), then a second UPSERT for 20% of children (later changes).
"""

import argparse
import asyncio
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from auth.passwords import password_hasher
from config import AppConfig
from models import (
    Activity,
    ActivitySession,
    Affiliation,
    Attendance,
    Carer,
    CarerChild,
    Child,
    ChildProtectionPlan,
    ContactPointChange,
    Family,
    Note,
    RoleAssignment,
    Setting,
    User,
)
from models.db import make_engine
from models.migrate import upgrade

SEED = 20261129
SETTINGS = 20
HALF_SETTINGS = 10  # bench-half: MANAGER in settings 1..HALF_SETTINGS, ADMIN_OFFICER in the rest
PASSWORD = "bench-password-2026"
MANAGER = "bench-manager"
HALF = "bench-half"
REPORTING = "bench-reporting"
FEED = "bench-feed"
REGISTER_SETTING = 1  # the setting of the registers workload's activities
REGISTER_SESSIONS = 8  # one per implementation (floor, authz-off, standard, service) and size
REGISTER_DATE = date(2026, 11, 2)
SEARCH_NAME = "Smith"  # workload (d): a surname a worker types before registering a family

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
PG_SERVER = os.environ.get("ESTART_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
# The PostgreSQL database of N families is <prefix>_<N>: two runs on one server at once need
# two prefixes, or each drops the other's database.
PG_PREFIX = os.environ.get("ESTART_BENCH_PG_PREFIX", "estart_bench")

TOWNS = [
    "Wakefield", "Pontefract", "Castleford", "Normanton", "Ossett", "Horbury", "Featherstone",
    "Knottingley", "Hemsworth", "South Elmsall", "Outwood", "Stanley", "Crigglestone", "Sandal",
    "Altofts", "Ackworth", "Walton", "Crofton", "Ryhill", "Sharlston",
]  # fmt: skip
STREETS = [
    "Station Road", "Church Street", "Mill Lane", "Park Avenue", "Victoria Road", "Queen Street",
    "Orchard Close", "Chapel Row", "Hill Top", "Meadow View", "Beck Lane", "Rose Terrace",
    "High Street", "Manor Road", "Green Lane", "School Lane", "Westfield Road", "Northgate",
]  # fmt: skip
FEMALE = [
    "Emma", "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
    "Grace", "Freya", "Willow", "Ayesha", "Zofia", "Marta", "Funmi", "Harpreet", "Siobhan", "Nasreen",
    "Lisa", "Janet", "Helen", "Sarah", "Chloe", "Jessica", "Maja", "Ada", "Ruby",
]  # fmt: skip
MALE = [
    "Jack", "Noah", "Oliver", "Leo", "George", "Harry", "Oscar", "Arthur", "Muhammad", "Theo", "Zain",
    "Daniel", "Tunde", "Piotr", "Arjun", "Niall", "Finn", "Kai", "Ibrahim", "Leon", "Tom", "Chris",
    "Mark", "Adam", "Liam", "Ethan", "Jacob", "Samuel", "Joseph", "Max",
]  # fmt: skip
SURNAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Whitaker", "Hussain", "Kowalski", "Adeyemi", "Singh", "Murphy", "Nowak", "Ahmed",
    "Campbell", "Patel", "Khan", "Ali", "Shaw", "Lee", "Harrison", "Moore", "Martin", "Cooper",
    "Ward", "Morris", "King", "Baker", "Hill", "Turner", "Scott", "Lewis", "Young", "Hughes", "Edwards",
    "Hargreaves", "Ashworth", "Bennett", "Okafor", "Mensah", "Oduya", "Walsh", "Begum", "Kaur",
    "Dawson", "Fletcher",
]  # fmt: skip
ETHNICITIES = [
    "WBRI", "WBRI", "WBRI", "WBRI", "WBRI", "WIRI", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "AIND",
    "APKN", "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "CHNE", "OOTH", "NOBT",
]  # fmt: skip
LANGUAGES = ["ENG", "ENG", "ENG", "ENG", "ENG", "POL", "URD", "PAN", "BEN", "ARA", "RON", "SOM", "KUR"]
CARER_RELATIONSHIPS = ["MOTHER", "FATHER", "GRANDPARENT", "STEP_PARENT", "GUARDIAN", "FOSTER_CARER"]
CP_CATEGORIES = ["NEGLECT", "PHYSICAL_ABUSE", "EMOTIONAL_ABUSE", "SEXUAL_ABUSE", "MULTIPLE"]
FAMILY_NOTES = [
    "Registration form received; welcome pack sent.",
    "Attended stay-and-play on Tuesday; asked about baby massage.",
    "Home visit completed; family settled in new tenancy.",
    "Referred to speech and language drop-in.",
    "Prefers contact by text message.",
    "Signposted to the adult learning course at the library.",
]
PERSON_NOTES = [
    "Settled well at messy play.",
    "Enjoys the sensory room.",
    "Attended the parenting course, sessions 1-3.",
    "Asked about nursery funding for two-year-olds.",
    "Health visitor check completed.",
]
CONFIDENTIAL = [
    "Disclosure made at home visit; details held by the manager.",
    "Contact with the other parent arranged through social care only.",
    "Do not share the address with the wider family.",
]
GENERAL_NOTES = [
    "Interpreter needed for home visits.",
    "Both parents work shifts; evenings are best.",
    "Older sibling at the primary school next door.",
    "Moving to the north of the town in the spring.",
    "Attends the Tuesday stay-and-play.",
]
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# codes of the drop-down lists as migrations 0002 and 0007 create them
OUTCOME_TYPES = ["SCHOOL_READINESS", "PARENTING", "HEALTH"]
ACCESS_GROUPS = ["OPEN", "TARGETED", "REFERRAL_ONLY", "BOOKING_REQUIRED"]
EVENT_TYPES = ["STAY_AND_PLAY", "BABY_MASSAGE", "PARENTING_COURSE", "HEALTH_CLINIC", "ADULT_LEARNING"]
EVENT_NAMES = ["Stay and play", "Baby massage", "Messy play", "Toddler music", "Parenting course", "Baby clinic"]


def database_url(kind: str, n: int, data_dir: Path = DATA) -> str:
    """Where the data set of N families lives: a file in `data_dir`, or a PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{data_dir / f'estart_bench_{n}.db'}"
    if kind == "postgresql":
        return make_url(PG_SERVER).set(database=f"{PG_PREFIX}_{n}").render_as_string(hide_password=False)
    raise ValueError(f"unknown database kind {kind!r}")


def detail_family_id(n: int) -> int:
    """The family workload (c) reads: built with every relation, in the middle of the keys."""
    return n // 2 + 1


@dataclass
class DataSet:
    n: int
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> int:
        rows = self.rows.setdefault(table, [])
        row["id"] = len(rows) + 1
        rows.append(row)
        return row["id"]  # type: ignore[no-any-return]


def _at(day: date, rng: random.Random) -> datetime:
    return datetime(
        day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59), tzinfo=UTC
    )


def _postcode(rng: random.Random) -> str:
    return f"WF{rng.randint(1, 17)} {rng.randint(1, 9)}{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"


def generate(n: int, password_hash: str, staff_hash: str, seed: int = SEED) -> DataSet:
    rng = random.Random(seed)
    data = DataSet(n)
    epoch = date(2026, 11, 1)
    for s in range(1, SETTINGS + 1):
        data.add("settings", {"code": f"CC{s:02d}", "name": f"{TOWNS[s - 1]} Children's Centre"})

    def user(username: str, display: str, hashed: str, roles: Sequence[tuple[str, int | None]]) -> int:
        user_id = data.add(
            "users",
            {
                "username": username,
                "display_name": display,
                "password_hash": hashed,
                # Recent whenever seeded: a lapsed check or training refuses login (resolvers/compliance.py).
                "crb_checked_on": date.today() - timedelta(days=400),
                "data_protection_trained_on": date.today() - timedelta(days=60),
                "is_active": True,
                "created_at": datetime(2025, 9, 1, 9, 0, tzinfo=UTC),
            },
        )
        for role, setting_id in roles:
            data.add("role_assignments", {"user_id": user_id, "role": role, "setting_id": setting_id})
        return user_id

    user(MANAGER, "Bench Manager", password_hash, [("manager", None)])
    user(
        HALF,
        "Bench Half",
        password_hash,
        [("manager", s) for s in range(1, HALF_SETTINGS + 1)]
        + [("admin_officer", s) for s in range(HALF_SETTINGS + 1, SETTINGS + 1)],
    )
    user(REPORTING, "Bench Reporting", password_hash, [("la_reporting", None)])
    user(FEED, "Bench Feed", password_hash, [("contactpoint_feed", None)])
    keyworkers = {
        s: user(f"keyworker-{s:02d}", f"{rng.choice(FEMALE + MALE)} {rng.choice(SURNAMES)}", staff_hash,
                [("parent_support_worker", s)])
        for s in range(1, SETTINGS + 1)
    }  # fmt: skip

    rich = detail_family_id(n)
    # people of the families in each setting's scope (registered or affiliated): attendees
    in_scope: dict[int, list[tuple[str, int, int]]] = {s: [] for s in range(1, SETTINGS + 1)}
    for family_key in range(1, n + 1):
        is_rich = family_key == rich
        setting = rng.randint(1, SETTINGS)
        author = keyworkers[setting]
        surname = rng.choice(SURNAMES)
        received = epoch - timedelta(days=rng.randint(1, 1500))
        family_id = data.add(
            "families",
            {
                "registered_setting_id": setting,
                "version": 1,
                "address_line1": f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                "address_line2": f"Flat {rng.randint(1, 12)}" if rng.random() < 0.1 else None,
                "town": TOWNS[setting - 1],
                "postcode": _postcode(rng),
                "general_note": rng.choice(GENERAL_NOTES) if rng.random() < 0.7 or is_rich else None,
                "source": "REFERRAL" if rng.random() < 0.3 else "INITIAL_CONTACT",
                "received_on": received,
                "entered_at": _at(received + timedelta(days=rng.randint(0, 5)), rng),
                "entered_by_id": author,
                "consent_to_contact": rng.random() < 0.9,
            },
        )
        carers: list[int] = []
        children: list[int] = []
        for index in range(3 if is_rich else rng.randint(1, 3)):
            female = index == 0 or rng.random() < 0.4
            carers.append(
                data.add(
                    "carers",
                    {
                        "family_id": family_id,
                        "first_name": rng.choice(FEMALE if female else MALE),
                        "last_name": surname,
                        "date_of_birth": date(rng.randint(1965, 2006), rng.randint(1, 12), rng.randint(1, 28)),
                        "gender": "FEMALE" if female else "MALE",
                        "ethnicity": rng.choice(ETHNICITIES),
                        "language": rng.choice(LANGUAGES),
                        "general_note": None,
                    },
                )
            )
        for _ in range(4 if is_rich else rng.randint(1, 4)):
            female = rng.random() < 0.5
            children.append(
                data.add(
                    "children",
                    {
                        "family_id": family_id,
                        "first_name": rng.choice(FEMALE if female else MALE),
                        "last_name": surname,
                        "date_of_birth": date(rng.randint(2020, 2026), rng.randint(1, 10), rng.randint(1, 28)),
                        "gender": "FEMALE" if female else "MALE",
                        "ethnicity": rng.choice(ETHNICITIES),
                        "language": rng.choice(LANGUAGES),
                        "general_note": None,
                        "provisional_name": False,
                    },
                )
            )
        for index, carer in enumerate(carers):
            relationship = CARER_RELATIONSHIPS[index] if index < 2 else rng.choice(CARER_RELATIONSHIPS[2:])
            for child in children:
                data.add("carer_children", {"carer_id": carer, "child_id": child, "relationship": relationship})
        members = [("Carer", c, family_id) for c in carers] + [("Child", c, family_id) for c in children]
        in_scope[setting] += members
        if is_rich or rng.random() < 0.10:
            other = rng.choice([s for s in range(1, SETTINGS + 1) if s != setting])
            consent = received + timedelta(days=rng.randint(10, 200))
            revoked = not is_rich and rng.random() < 0.1
            if not revoked:
                in_scope[other] += members
            data.add(
                "affiliations",
                {
                    "family_id": family_id,
                    "setting_id": other,
                    "consent_given_by": "carer",
                    "consent_date": consent,
                    "created_at": _at(consent, rng),
                    "revoked_at": _at(consent + timedelta(days=60), rng) if revoked else None,
                },
            )

        def note(
            subject_type: str,
            subject_id: int,
            kind: str,
            body: str,
            family_id: int = family_id,
            author: int = author,
            setting: int = setting,
            received: date = received,
        ) -> None:
            data.add(
                "notes",
                {
                    "family_id": family_id,
                    "subject_type": subject_type,
                    "subject_id": subject_id,
                    "kind": kind,
                    "text": body,
                    "author_id": author,
                    "setting_id": setting,
                    "created_at": _at(received + timedelta(days=rng.randint(0, 300)), rng),
                    "corrects_note_id": None,
                },
            )

        for _ in range(rng.randint(1, 3)):
            note("family", family_id, "HISTORY", rng.choice(FAMILY_NOTES))
        if is_rich or rng.random() < 0.3:
            note("family", family_id, "CONFIDENTIAL", rng.choice(CONFIDENTIAL))
        for subject_type, people in (("carer", carers), ("child", children)):
            for person in people:
                for _ in range(1 if is_rich else rng.randint(0, 2)):
                    note(subject_type, person, "HISTORY", rng.choice(PERSON_NOTES))
                if is_rich or rng.random() < 0.1:
                    note(subject_type, person, "CONFIDENTIAL", rng.choice(CONFIDENTIAL))
        for position, child in enumerate(children):
            draw = rng.random()
            if (is_rich and position == 0) or draw < 0.03:
                start = epoch - timedelta(days=rng.randint(10, 400))
                end = None
            elif draw < 0.05:
                start = epoch - timedelta(days=rng.randint(400, 900))
                end = start + timedelta(days=rng.randint(90, 300))
            else:
                continue
            data.add(
                "child_protection_plans",
                {
                    "child_id": child,
                    "start_date": start,
                    "end_date": end,
                    "category": rng.choice(CP_CATEGORIES),
                    "recorded_by_id": author,
                    "created_at": _at(start, rng),
                },
            )
    activities(data, random.Random(seed + 1), epoch, keyworkers, in_scope)
    outbox(data, random.Random(seed + 2))
    return data


def activities(
    data: DataSet,
    rng: random.Random,
    epoch: date,
    keyworkers: dict[int, int],
    in_scope: dict[int, list[tuple[str, int, int]]],
) -> None:
    """Weekly activities with sessions and registers, and the registers workload's sessions."""

    def activity(setting: int, description: str, start: date) -> int:
        return data.add(
            "activities",
            {
                "setting_id": setting,
                "version": 1,
                "description": description,
                "provider": f"{TOWNS[setting - 1]} Children's Centre",
                "project_leader": f"{rng.choice(FEMALE + MALE)} {rng.choice(SURNAMES)}",
                "frequency": "WEEKLY",
                "outcome_type": rng.choice(OUTCOME_TYPES),
                "outcome": rng.choice([None, "Parents report more confidence at home."]),
                "access_group": rng.choice(ACCESS_GROUPS),
                "event_type": rng.choice([*EVENT_TYPES, None]),
                "start_date": start,
                "start_time": time_of_day(rng.choice([9, 10, 13]), rng.choice([0, 30])),
                "duration_minutes": rng.choice([60, 90, 120]),
                "aims": "Play, songs and stories; time for parents to meet the centre's staff.",
                "created_by_id": keyworkers[setting],
                "created_at": _at(start - timedelta(days=14), rng),
            },
        )

    per_setting = max(1, data.n // 400)
    for setting in range(1, SETTINGS + 1):
        pool = in_scope[setting]
        for index in range(per_setting):
            start = epoch - timedelta(days=rng.randint(0, 700))
            activity_id = activity(setting, f"{rng.choice(EVENT_NAMES)} {index + 1}", start)
            for week in range(10):
                day = start + timedelta(days=7 * week)
                entered = day < epoch and rng.random() < 0.9
                session_id = data.add(
                    "activity_sessions",
                    {
                        "activity_id": activity_id,
                        "date": day,
                        "start_time": time_of_day(10, 0),
                        "duration_minutes": 90,
                        "register_entered_at": _at(day + timedelta(days=rng.randint(0, 9)), rng) if entered else None,
                        "register_entered_by_id": keyworkers[setting] if entered else None,
                    },
                )
                if not entered:
                    continue
                for person_type, person_id, family_id in rng.sample(pool, min(8, len(pool))):
                    data.add(
                        "attendances",
                        {
                            "session_id": session_id,
                            "family_id": family_id,
                            "person_type": person_type,
                            "person_id": person_id,
                            "attended": rng.random() < 0.9,
                            "recorded_at": _at(day + timedelta(days=1), rng),
                            "recorded_by_id": keyworkers[setting],
                        },
                    )
    for index in range(1, REGISTER_SESSIONS + 1):
        activity_id = activity(REGISTER_SETTING, f"Bench register {index}", REGISTER_DATE)
        data.add(
            "activity_sessions",
            {
                "activity_id": activity_id,
                "date": REGISTER_DATE,
                "start_time": time_of_day(10, 0),
                "duration_minutes": 90,
                "register_entered_at": None,
                "register_entered_by_id": None,
            },
        )


def outbox(data: DataSet, rng: random.Random) -> None:
    """The ContactPoint feed's log: every child once (the backfill), then later changes."""
    changes = data.rows.setdefault("contactpoint_changes", [])
    children = data.rows.get("children", [])
    at = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    for child in children:
        changes.append({"seq": len(changes) + 1, "child_id": child["id"], "kind": "UPSERT", "at": at})
    for child in children:
        if rng.random() < 0.2:
            at += timedelta(minutes=rng.randint(1, 30))
            changes.append({"seq": len(changes) + 1, "child_id": child["id"], "kind": "UPSERT", "at": at})


TABLES: list[tuple[str, Table]] = [
    ("settings", Setting.__table__),  # type: ignore[list-item]
    ("users", User.__table__),  # type: ignore[list-item]
    ("role_assignments", RoleAssignment.__table__),  # type: ignore[list-item]
    ("families", Family.__table__),  # type: ignore[list-item]
    ("carers", Carer.__table__),  # type: ignore[list-item]
    ("children", Child.__table__),  # type: ignore[list-item]
    ("carer_children", CarerChild.__table__),  # type: ignore[list-item]
    ("affiliations", Affiliation.__table__),  # type: ignore[list-item]
    ("notes", Note.__table__),  # type: ignore[list-item]
    ("child_protection_plans", ChildProtectionPlan.__table__),  # type: ignore[list-item]
    ("activities", Activity.__table__),  # type: ignore[list-item]
    ("activity_sessions", ActivitySession.__table__),  # type: ignore[list-item]
    ("attendances", Attendance.__table__),  # type: ignore[list-item]
    ("contactpoint_changes", ContactPointChange.__table__),  # type: ignore[list-item]
]


async def fresh_database(kind: str, n: int, data_dir: Path = DATA) -> str:
    """An empty, migrated database for (kind, n); whatever was there is dropped."""
    url = database_url(kind, n, data_dir)
    if kind == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        name = make_url(url).database
        admin = create_async_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
    await asyncio.to_thread(upgrade, url)  # Alembic runs its own loop; keep it off this one
    return url


async def load(url: str, data: DataSet) -> dict[str, int]:
    engine = make_engine(url)
    counts: dict[str, int] = {}
    try:
        async with engine.begin() as connection:
            for name, table in TABLES:
                rows = data.rows.get(name, [])
                counts[name] = len(rows)
                if rows:
                    await connection.execute(insert(table), rows)
            if engine.dialect.name == "postgresql":
                for name, table in TABLES:
                    key = next(iter(table.primary_key.columns)).name
                    await connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', '{key}'), "
                            f"(SELECT COALESCE(MAX({key}), 1) FROM {name}))"
                        )
                    )
                await connection.execute(text("ANALYZE"))
            else:
                await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return counts


async def is_seeded(url: str, n: int) -> bool:
    """True when `url` already holds this data set (used by `run --reuse`)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            families = (await connection.execute(text("SELECT COUNT(*) FROM families"))).scalar()
            users = (
                await connection.execute(
                    text("SELECT COUNT(*) FROM users WHERE username IN (:a, :b, :c, :d)"),
                    {"a": MANAGER, "b": HALF, "c": REPORTING, "d": FEED},
                )
            ).scalar()
        return families == n and users == 4
    except Exception:
        return False
    finally:
        await engine.dispose()


_HASHES: dict[str, str] = {}


def hashes() -> tuple[str, str]:
    """Hashes made with the app's own argon2id hasher (computed once per process)."""
    if not _HASHES:
        hasher = password_hasher(AppConfig())
        _HASHES["bench"] = hasher.hash(PASSWORD)
        _HASHES["staff"] = hasher.hash("keyworker-password-2026")
    return _HASHES["bench"], _HASHES["staff"]


async def seed(kind: str, n: int, data_dir: Path = DATA) -> tuple[str, dict[str, int], float]:
    """Create, migrate and fill the database for (kind, n); returns url, row counts, seconds."""
    started = time.perf_counter()
    url = await fresh_database(kind, n, data_dir)
    data = generate(n, *hashes())
    counts = await load(url, data)
    return url, counts, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed a benchmark database")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    url, counts, seconds = asyncio.run(seed(args.db, args.n))
    print(f"{url}: {counts} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
