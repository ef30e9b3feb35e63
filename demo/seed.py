"""Demo data for `estart seed-demo`: three settings, one login per role and a dozen families.

Written with the models directly (there is no caller to authorize), with the audit events the
API would have written, so record histories read as they would. Idempotent: when the demo
settings or logins are already there, it says so and changes nothing.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import schema  # noqa: F401  its record types declare the categories of audit events (authz.fields)
from auth.passwords import password_hasher
from authz.categories import Category
from config import AppConfig
from models import (
    Activity,
    ActivitySession,
    Affiliation,
    Attendance,
    AuditEvent,
    Carer,
    CarerChild,
    Child,
    ChildProtectionPlan,
    Contact,
    Family,
    Form,
    Note,
    RoleAssignment,
    Setting,
    SubjectCode,
    User,
    UserRequest,
)
from models.base import utcnow
from models.db import make_engine, make_sessionmaker
from resolvers import contactpoint
from resolvers import validation as v
from resolvers.activity import ACTIVITY_FIELDS
from resolvers.form import calendar_for
from resolvers.history import FAMILY_FIELDS, PERSON_FIELDS, FieldMap, field_category
from resolvers.user_requests import WORKING_DAYS, Kind, Status

T = TypeVar("T")
P = TypeVar("P", Carer, Child)

DEMO_PASSWORD = "demo-password-2026"

SETTINGS = [
    ("NORTH", "Northgate Children's Centre"),
    ("SOUTH", "Southfields Children's Centre"),
    ("EAST", "Eastmoor Children's Centre"),
]

# username, display name, role, setting code (None = all settings)
USERS = [
    ("senior-mgmt", "Sandra Okafor", "senior_management", None),
    ("head", "Helen Ashworth", "head_of_centre", "NORTH"),
    ("manager", "Mark Bennett", "manager", "NORTH"),
    ("senior-admin", "Sunita Patel", "senior_administrator", "NORTH"),
    ("psw", "Paula Walsh", "parent_support_worker", "NORTH"),
    ("admin-officer", "Adam Oduya", "admin_officer", "NORTH"),
    ("sysadmin", "Simon Clarke", "system_administrator", None),
    ("contactpoint", "ContactPoint feed", "contactpoint_feed", None),
    ("la-reporting", "LA reporting", "la_reporting", None),
    # The managers of the other two settings entered those settings' families; logging in as
    # one shows the same records from the other side of the row scope.
    ("manager-south", "Grace Mensah", "manager", "SOUTH"),
    ("manager-east", "Tom Hargreaves", "manager", "EAST"),
]
SETTING_MANAGER = {"NORTH": "manager", "SOUTH": "manager-south", "EAST": "manager-east"}


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    date_of_birth: date
    gender: str
    ethnicity: str
    language: str
    relationship: str | None  # a carer's relationship to every child of the family


def _p(
    first: str, born: str, gender: str, ethnicity: str = "WBRI", language: str = "ENG", rel: str | None = None
) -> Person:
    return Person(first, date.fromisoformat(born), gender, ethnicity, language, rel)


@dataclass(frozen=True, slots=True)
class DemoFamily:
    setting: str
    surname: str
    address: tuple[str, str]  # line1, postcode (all in Wakefield)
    carers: tuple[Person, ...]
    children: tuple[Person, ...]
    general_note: str
    received_on: date
    referrer: tuple[str, str, str] | None = None  # name, organisation, reason code: a REFERRAL
    warnings: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # hard-to-reach groups


# fmt: off
FAMILIES = [
    DemoFamily("NORTH", "Whitaker", ("12 Mill Lane", "WF1 2AB"),
               (_p("Emma", "1993-05-14", "FEMALE", rel="MOTHER"), _p("Daniel", "1991-09-02", "MALE", rel="FATHER")),
               (_p("Olivia", "2023-02-11", "FEMALE"), _p("Jack", "2025-06-30", "MALE")),
               "Prefers contact by text message.", date(2026, 3, 9), groups=("FATHER_OR_MALE_CARER",)),
    DemoFamily("NORTH", "Hussain", ("4 Park Avenue", "WF1 3CD"),
               (_p("Ayesha", "1995-01-20", "FEMALE", "APKN", "URD", "MOTHER"),),
               (_p("Zain", "2024-04-05", "MALE", "APKN", "URD"),),
               "Interpreter needed for home visits.", date(2026, 4, 21),
               ("Rachel Moore", "Wakefield Social Care", "DOMESTIC_ABUSE"),
               warnings=("DO_NOT_SEND_POST",), groups=("DOMESTIC_ABUSE", "LONE_PARENT")),
    DemoFamily("NORTH", "Kowalski", ("27 Church Street", "WF1 4EF"),
               (_p("Marta", "1990-11-03", "FEMALE", "WOTH", "POL", "MOTHER"),),
               (_p("Zofia", "2022-08-17", "FEMALE", "WOTH", "POL"), _p("Leon", "2024-12-01", "MALE", "WOTH", "POL")),
               "Attends the Tuesday stay-and-play.", date(2026, 1, 15), groups=("ENGLISH_NOT_FIRST_LANGUAGE",)),
    DemoFamily("NORTH", "Brown", ("9 Victoria Road", "WF1 5GH"),
               (_p("Janet", "1968-03-29", "FEMALE", rel="GRANDPARENT"),),
               (_p("Kai", "2023-10-09", "MALE", "MWBC"),),
               "Kai lives with his grandmother.", date(2026, 6, 2),
               ("Dr Anil Shah", "Northgate Surgery", "PARENTING_SUPPORT"), groups=("OFFENDER_OR_PRISONER_FAMILY",)),
    DemoFamily("SOUTH", "Adeyemi", ("33 Queen Street", "WF2 7JK"),
               (_p("Funmi", "1992-07-07", "FEMALE", "BAFR", rel="MOTHER"),
                _p("Tunde", "1989-12-12", "MALE", "BAFR", rel="FATHER")),
               (_p("Ada", "2024-01-22", "FEMALE", "BAFR"),),
               "Moving to the north of the town in the spring.", date(2026, 2, 3)),
    DemoFamily("SOUTH", "Clarke", ("2 Orchard Close", "WF2 8LM"),
               (_p("Lisa", "2008-04-16", "FEMALE", rel="MOTHER"),),
               (_p("Ruby", "2025-03-03", "FEMALE"),),
               "Baby group on Thursdays.", date(2026, 5, 12), groups=("TEENAGE_PARENT", "LONE_PARENT")),
    DemoFamily("SOUTH", "Singh", ("61 Station Road", "WF2 9NP"),
               (_p("Harpreet", "1987-10-25", "FEMALE", "AIND", "PAN", "MOTHER"),),
               (_p("Arjun", "2022-11-30", "MALE", "AIND", "PAN"), _p("Simran", "2025-09-14", "FEMALE", "AIND", "PAN")),
               "Older sibling at primary school.", date(2026, 7, 7), warnings=("DANGEROUS_DOG",)),
    DemoFamily("SOUTH", "Murphy", ("15 Rose Terrace", "WF2 6QR"),
               (_p("Siobhan", "1994-02-08", "FEMALE", "WIRI", rel="FOSTER_CARER"),),
               (_p("Niall", "2023-06-19", "MALE"),),
               "Foster placement since June.", date(2026, 6, 20),
               ("Kerry Lund", "Wakefield Fostering Service", "CHILD_DEVELOPMENT")),
    DemoFamily("EAST", "Nowak", ("8 Chapel Row", "WF1 1ST"),
               (_p("Anna", "1996-06-01", "FEMALE", "WOTH", "POL", "MOTHER"),
                _p("Piotr", "1994-03-15", "MALE", "WOTH", "POL", "FATHER")),
               (_p("Maja", "2024-07-27", "FEMALE", "WOTH", "POL"),),
               "Both parents work shifts.", date(2026, 8, 18)),
    DemoFamily("EAST", "Ahmed", ("40 Hill Top", "WF1 2UV"),
               (_p("Nasreen", "1991-08-09", "FEMALE", "ABAN", "BEN", "MOTHER"),),
               (_p("Ibrahim", "2023-12-25", "MALE", "ABAN", "BEN"),),
               "Speech and language group on Wednesdays.", date(2026, 9, 1),
               ("Jill Parker", "Health visiting team", "SPEECH_LANGUAGE"), warnings=("DO_NOT_VISIT_ALONE",)),
    DemoFamily("EAST", "Taylor", ("3 Meadow View", "WF1 3WX"),
               (_p("Chris", "1985-05-05", "MALE", rel="FATHER"), _p("Jo", "1986-01-31", "FEMALE", rel="STEP_PARENT")),
               (_p("Ella", "2022-09-09", "FEMALE"), _p("Finn", "2024-02-29", "MALE")),
               "Ella starts nursery in January.", date(2026, 10, 5)),
    DemoFamily("EAST", "Campbell", ("19 Beck Lane", "WF1 4YZ"),
               (_p("Morag", "1970-12-19", "FEMALE", rel="GUARDIAN"),),
               (_p("Lily", "2025-01-08", "FEMALE", "MWBC"),),
               "Special guardianship order in place.", date(2026, 10, 27)),
]
# fmt: on

CONFIDENTIAL_NOTES = {
    "Hussain": "Domestic abuse disclosed at a home visit; refuge details are held by the manager.",
    "Brown": "Mother in custody until next year; contact is arranged through social care.",
    "Murphy": "The birth family must not be told the placement address.",
    "Ahmed": "Father has a non-molestation order against him.",
}


@dataclass(frozen=True, slots=True)
class DemoActivity:
    setting: str
    description: str
    frequency: str
    outcome_type: str
    access_group: str
    event_type: str | None
    start: date
    start_time: time
    minutes: int
    aims: str
    sessions: tuple[date, ...]
    # (surname, first names) of the people on every entered register
    attendees: tuple[tuple[str, tuple[str, ...]], ...]
    late_register: date | None = None  # this session's register was entered ten days after it
    outstanding: date | None = None  # this session's register is not entered yet


def _weekly(first: date, count: int, step: int = 7) -> tuple[date, ...]:
    return tuple(first + timedelta(days=step * n) for n in range(count))


# fmt: off
ACTIVITIES = [
    # Northgate's stay and play, attended by the Adeyemis of Southfields (affiliated to Northgate).
    DemoActivity("NORTH", "Tuesday stay and play", "WEEKLY", "SCHOOL_READINESS", "OPEN", "STAY_AND_PLAY",
                 date(2026, 9, 8), time(9, 30), 90, "Early learning through play; parents meet other parents.",
                 _weekly(date(2026, 10, 6), 8),
                 (("Kowalski", ("Marta", "Zofia", "Leon")), ("Whitaker", ("Emma", "Olivia")),
                  ("Adeyemi", ("Funmi", "Ada"))),
                 late_register=date(2026, 10, 20), outstanding=date(2026, 11, 24)),
    DemoActivity("NORTH", "Baby massage course", "FORTNIGHTLY", "HEALTH", "TARGETED", "BABY_MASSAGE",
                 date(2026, 10, 1), time(13, 0), 60, "Bonding and soothing techniques for babies under one.",
                 _weekly(date(2026, 10, 1), 4, step=14), (("Whitaker", ("Emma", "Jack")),)),
    DemoActivity("SOUTH", "Thursday baby group", "WEEKLY", "PARENTING", "OPEN", "STAY_AND_PLAY",
                 date(2026, 9, 3), time(10, 0), 120, "Support and friendship for parents of babies.",
                 _weekly(date(2026, 10, 8), 6), (("Clarke", ("Lisa", "Ruby")), ("Adeyemi", ("Funmi", "Ada")))),
    DemoActivity("EAST", "Speech and language group", "WEEKLY", "SCHOOL_READINESS", "TARGETED", None,
                 date(2026, 9, 9), time(14, 0), 45, "Early talking skills for children referred by health visitors.",
                 _weekly(date(2026, 10, 7), 6), (("Ahmed", ("Nasreen", "Ibrahim")), ("Taylor", ("Jo", "Finn"))),
                 outstanding=date(2026, 11, 11)),
]
# (surname, kind, date, minutes, summary, first names seen)
CONTACTS = [
    ("Hussain", "HOME_VISIT", date(2026, 11, 3), 60, "Interpreter present; talked about the stay and play.",
     ("Ayesha", "Zain")),
    ("Murphy", "HOME_VISIT", date(2026, 10, 21), 45, "Placement settled; Niall walking well.", ("Siobhan", "Niall")),
    ("Campbell", "PHONE", date(2026, 11, 10), 15, "Booked a place at the next baby group.", ("Morag",)),
    ("Kowalski", "HOME_VISIT", date(2026, 11, 16), 50, "Zofia's nursery application.", ("Marta", "Zofia")),
]
# fmt: on


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | time) else value


class Seeder:
    """Adds the demo records to one session, with their audit events. Each setting's manager
    is the author of its families' records."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.settings: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.authors: dict[int, int] = {}  # setting id -> user id of its manager

    async def add(self, record: T) -> T:
        self.session.add(record)
        await self.session.flush()
        return record

    def audit(self, action: str, record: Any, family: Family | None, category: Category | None, changes: Any) -> None:
        setting_id = None if family is None else family.registered_setting_id
        self.session.add(AuditEvent(
            at=utcnow(), user_id=None if setting_id is None else self.authors[setting_id], setting_id=setting_id,
            action=action, category=None if category is None else category.name, record_type=type(record).__name__,
            record_id=record.id, family_id=None if family is None else family.id, changes=changes,
        ))  # fmt: skip

    def audit_fields(self, action: str, record: Any, fields: FieldMap, family: Family) -> None:
        """One event per category of the fields given, as resolvers.history.record_changes."""
        by_category: dict[Category, dict[str, Any]] = {}
        for column, (name, _) in fields.items():
            if (value := getattr(record, column, None)) is not None:
                category = field_category(type(record).__name__, fields, column)
                by_category.setdefault(category, {})[name] = {"before": None, "after": _plain(value)}
        for category, changes in by_category.items():
            self.audit(action, record, family, category, changes)

    async def settings_and_users(self, hash_password: Any) -> None:
        for code, name in SETTINGS:
            setting = await self.add(Setting(code=code, name=name))
            self.settings[code] = setting.id
            self.audit("setting.create", setting, None, None, {"after": {"code": code, "name": name}})
        for username, display_name, role, held_in in USERS:
            user = await self.add(User(
                username=username, display_name=display_name, password_hash=hash_password(DEMO_PASSWORD),
                # Recent enough to log in whenever the demo is loaded (resolvers/compliance.py).
                crb_checked_on=v.today() - timedelta(days=400),
                data_protection_trained_on=v.today() - timedelta(days=60),
                created_at=utcnow(),
            ))  # fmt: skip
            self.users[username] = user.id
            setting_id = None if held_in is None else self.settings[held_in]
            self.session.add(RoleAssignment(user_id=user.id, role=role, setting_id=setting_id))
            self.audit(
                "user.create", user, None, None, {"after": {"username": username, "roles": [[role, setting_id]]}}
            )
        self.authors = {self.settings[code]: self.users[username] for code, username in SETTING_MANAGER.items()}

    async def user_requests(self, closures: tuple[date, ...]) -> None:
        """One pending request of each kind, signed by NORTH's manager, for the administrator."""
        today = v.today()
        north = self.settings["NORTH"]
        pending = [
            (Kind.NEW_USER, None, {
                "username": "new-starter", "displayName": "Nadia Starr",
                "crbCheckedOn": (today - timedelta(days=20)).isoformat(),
                "dataProtectionTrainedOn": (today - timedelta(days=10)).isoformat(),
                "roles": [["parent_support_worker", north]],
            }),
            (Kind.ROLE_CHANGE, "admin-officer", {
                "roles": [["senior_administrator", north]], "before": [["admin_officer", north]],
            }),
            (Kind.PASSWORD_RESET, "psw", {}),
            (Kind.TERMINATION, "head", {"reason": "Leaves the service at the end of the month"}),
        ]  # fmt: skip
        for kind, subject, details in pending:
            request = await self.add(UserRequest(
                kind=kind.value, status=Status.PENDING.value, requested_by_id=self.users["manager"],
                requested_at=utcnow(), deadline=calendar_for(closures).add_working_days(today, WORKING_DAYS[kind]),
                user_id=None if subject is None else self.users[subject], details=details, approvals_needed=1,
            ))  # fmt: skip
            self.session.add(AuditEvent(
                at=utcnow(), user_id=self.users["manager"], action="user_request.file", record_type="UserRequest",
                record_id=request.id, changes={"kind": kind.value, "userId": request.user_id},
            ))  # fmt: skip

    async def family(self, spec: DemoFamily) -> Family:
        setting_id = self.settings[spec.setting]
        author, entered_at = self.authors[setting_id], _at(spec.received_on)
        family = await self.add(Family(
            registered_setting_id=setting_id, address_line1=spec.address[0], town="Wakefield", postcode=spec.address[1],
            general_note=spec.general_note, source="REFERRAL" if spec.referrer else "INITIAL_CONTACT",
            received_on=spec.received_on, entered_at=entered_at, entered_by_id=author, consent_to_contact=True,
        ))  # fmt: skip
        contactpoint.touch_family(self.session, family.id)  # the feed starts with the demo's children
        referrer: tuple[str | None, ...] = spec.referrer or (None, None, None)
        self.session.add(Form(
            kind=family.source, setting_id=setting_id, family_id=family.id, received_on=spec.received_on,
            logged_by_id=author, logged_at=entered_at, entered_at=entered_at, entered_by_id=author,
            referral_type="PROFESSIONAL" if spec.referrer else None, referrer_name=referrer[0],
            referrer_organisation=referrer[1], reason_code=referrer[2],
            consent_to_contact=True, consent_recorded_by_id=author, consent_date=spec.received_on,
        ))  # fmt: skip
        self.audit_fields("family.register", family, FAMILY_FIELDS, family)
        carers = [await self.person(Carer(), family, spec.surname, person) for person in spec.carers]
        children = [await self.person(Child(), family, spec.surname, person) for person in spec.children]
        for carer, person in zip(carers, spec.carers, strict=True):
            if person.relationship:
                self.session.add_all(
                    CarerChild(carer_id=carer.id, child_id=child.id, relationship=person.relationship)
                    for child in children
                )
        for list_name, codes in (("WARNING", spec.warnings), ("HARD_TO_REACH_GROUP", spec.groups)):
            self.session.add_all(
                SubjectCode(
                    family_id=family.id, subject_type="family", subject_id=family.id, list_name=list_name, code=c
                )
                for c in codes
            )
        await self.note(family, family, "HISTORY", f"Registration entered; welcome pack sent to the {spec.surname}s.")
        await self.note(
            family, children[0], "HISTORY", f"{children[0].first_name} enjoyed messy play and settled well."
        )
        if spec.surname in CONFIDENTIAL_NOTES:
            await self.note(family, family, "CONFIDENTIAL", CONFIDENTIAL_NOTES[spec.surname])
            await self.note(family, carers[0], "CONFIDENTIAL", "Asked that this stays with the key worker.")
        return family

    async def person(self, row: P, family: Family, surname: str, person: Person) -> P:
        row.family_id, row.first_name, row.last_name = family.id, person.first_name, surname
        row.date_of_birth, row.gender = person.date_of_birth, person.gender
        row.ethnicity, row.language = person.ethnicity, person.language
        await self.add(row)
        self.audit_fields("person.register", row, PERSON_FIELDS, family)
        return row

    async def note(self, family: Family, subject: Family | Carer | Child, kind: str, text: str) -> None:
        subject_type = type(subject).__name__.lower()
        note = Note(family_id=family.id, subject_type=subject_type, subject_id=subject.id, kind=kind, text=text)
        note.author_id, note.setting_id = self.authors[family.registered_setting_id], family.registered_setting_id
        await self.add(note)
        category = Category.CONFIDENTIAL if kind == "CONFIDENTIAL" else Category.SECONDARY
        self.audit(
            "note.add", note, family, category, {"after": {"subject": f"{subject_type}:{subject.id}", "kind": kind}}
        )

    async def affiliation(
        self, family: Family, code: str, given_by: str, on: date, revoked: date | None = None
    ) -> None:
        affiliation = await self.add(Affiliation(
            family_id=family.id, setting_id=self.settings[code], consent_given_by=given_by, consent_date=on,
            created_at=_at(on), revoked_at=None if revoked is None else _at(revoked),
        ))  # fmt: skip
        changes = {"after": {"setting_id": self.settings[code], "consent_given_by": given_by}}
        self.audit("affiliation.add", affiliation, family, Category.SECONDARY, changes)
        if revoked is not None:
            self.audit("affiliation.revoke", affiliation, family, Category.SECONDARY, None)

    async def plan(self, family: Family, child: str, start: date, category: str, end: date | None = None) -> None:
        child_id = await self.session.scalar(
            select(Child.id).where(Child.family_id == family.id, Child.first_name == child)
        )
        assert child_id is not None
        plan = await self.add(ChildProtectionPlan(
            child_id=child_id, start_date=start, end_date=end, category=category,
            recorded_by_id=self.authors[family.registered_setting_id], created_at=_at(start),
        ))  # fmt: skip
        changes = {"after": {"child_id": child_id, "start_date": start.isoformat(), "category": category}}
        self.audit("cp_plan.start", plan, family, Category.CP_PLAN, changes)
        if end is not None:
            self.audit("cp_plan.end", plan, family, Category.CP_PLAN, {"after": {"end_date": end.isoformat()}})

    def event(
        self, action: str, record_type: str, record_id: int, setting_id: int, category: Category, changes: Any,
        *, family_id: int | None = None, at: datetime | None = None,
    ) -> None:  # fmt: skip
        self.session.add(AuditEvent(
            at=at or utcnow(), user_id=self.authors[setting_id], setting_id=setting_id, action=action,
            category=category.name, record_type=record_type, record_id=record_id, family_id=family_id,
            changes=changes,
        ))  # fmt: skip

    async def people(self, families: dict[str, Family]) -> dict[tuple[str, str], Carer | Child]:
        """Every demo person by (surname, first name)."""
        surnames = {family.id: surname for surname, family in families.items()}
        found: dict[tuple[str, str], Carer | Child] = {}
        for carer in await self.session.scalars(select(Carer)):
            found[(surnames[carer.family_id], carer.first_name)] = carer
        for child in await self.session.scalars(select(Child)):
            found[(surnames[child.family_id], child.first_name)] = child
        return found

    async def activity(self, spec: DemoActivity, people: dict[tuple[str, str], Carer | Child]) -> None:
        setting_id = self.settings[spec.setting]
        author = self.authors[setting_id]
        activity = await self.add(Activity(
            setting_id=setting_id, description=spec.description, provider=dict(SETTINGS)[spec.setting],
            project_leader="Paula Walsh" if spec.setting == "NORTH" else "Centre family worker",
            frequency=spec.frequency, outcome_type=spec.outcome_type, outcome=None, access_group=spec.access_group,
            event_type=spec.event_type, start_date=spec.start, start_time=spec.start_time,
            duration_minutes=spec.minutes, aims=spec.aims, created_by_id=author, created_at=_at(spec.start),
        ))  # fmt: skip
        changes = {
            name: {"before": None, "after": _plain(getattr(activity, column))}
            for column, name in ACTIVITY_FIELDS.items()
            if getattr(activity, column) is not None
        }
        self.event("activity.create", "Activity", activity.id, setting_id, Category.ACTIVITY, changes)
        for day in spec.sessions:
            delay = timedelta(days=10 if day == spec.late_register else 1)
            entered = None if day == spec.outstanding else _at(day + delay)
            session = await self.add(ActivitySession(
                activity_id=activity.id, date=day, start_time=spec.start_time, duration_minutes=spec.minutes,
                register_entered_at=entered, register_entered_by_id=None if entered is None else author,
            ))  # fmt: skip
            if entered is None:
                continue
            label = f"{spec.description} on {day.isoformat()}"
            for n, (surname, first_names) in enumerate(spec.attendees):
                for first_name in first_names:
                    person = people[(surname, first_name)]
                    attended = (n + day.toordinal()) % 5 != 0  # now and then someone misses a session
                    self.session.add(Attendance(
                        session_id=session.id, family_id=person.family_id, person_type=type(person).__name__,
                        person_id=person.id, attended=attended, recorded_at=entered, recorded_by_id=author,
                    ))  # fmt: skip
                    after = f"{'attended' if attended else 'absent'}: {label}"
                    self.event(
                        "attendance.record", type(person).__name__, person.id, setting_id, Category.SECONDARY,
                        {"attendance": {"before": None, "after": after}}, family_id=person.family_id, at=entered,
                    )  # fmt: skip
            self.event(
                "register.record", "ActivitySession", session.id, setting_id, Category.ACTIVITY,
                {"register": {"before": None, "after": f"entered: {label}"}}, at=entered,
            )  # fmt: skip

    async def contact(
        self, family: Family, people: dict[tuple[str, str], Carer | Child], spec: tuple[Any, ...]
    ) -> None:
        surname, kind, day, minutes, summary, seen = spec
        setting_id = family.registered_setting_id
        entered = _at(day + timedelta(days=1))
        seen_rows = [people[(surname, first_name)] for first_name in seen]
        await self.add(Contact(
            family_id=family.id, setting_id=setting_id, kind=kind, date=day, duration_minutes=minutes,
            worker_id=self.authors[setting_id], summary=summary, entered_at=entered,
            people_seen=[{"type": type(person).__name__, "id": person.id} for person in seen_rows],
        ))  # fmt: skip
        self.event(
            "contact.record", "Family", family.id, setting_id, Category.SECONDARY,
            {"contact": {"before": None, "after": f"{kind} on {day.isoformat()}"}}, family_id=family.id, at=entered,
        )  # fmt: skip


NOT_LOADED = "demo data not loaded"
PUBLISHED_PASSWORD_WARNING = (
    f"WARNING: every demo login has the published password {DEMO_PASSWORD}: seed only a database that no one "
    "else can reach, never one holding real records"
)


async def _clash(session: AsyncSession, force: bool = False) -> str | None:
    """Why seeding would clash with what is there: the demo data itself, or some of its names.
    `force` seeds beside accounts other than the demo's (never on real data)."""
    codes = [code for code, _ in SETTINGS]
    usernames = [username for username, *_ in USERS]
    others = await session.scalar(select(User.username).where(User.username.not_in(usernames)).limit(1))
    if others is not None and not force:
        # Demo logins share a published password: never add them beside real accounts.
        return f"{NOT_LOADED}: this database holds accounts other than the demo's (--force seeds anyway)"
    found = list(await session.scalars(select(Setting.code).where(Setting.code.in_(codes))))
    found += list(await session.scalars(select(User.username).where(User.username.in_(usernames))))
    if len(found) == len(codes) + len(usernames):
        return "demo data already present; nothing changed"
    return f"{NOT_LOADED}: these names are taken: {', '.join(sorted(found))}" if found else None


async def seed_demo(config: AppConfig, force: bool = False) -> str:
    """Create the demo data and return a summary of the logins; idempotent. Refused (NOT_LOADED)
    beside accounts other than the demo's unless `force`."""
    engine = make_engine(config.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if clash := await _clash(session, force):
                return f"{clash}\n{logins()}"
            seeder = Seeder(session)
            await seeder.settings_and_users(password_hasher(config).hash)
            families = {spec.surname: await seeder.family(spec) for spec in FAMILIES}
            # Standards 6: the Adeyemis consented to share their record with Northgate, where
            # they are moving; the Nowaks shared theirs and then withdrew consent.
            await seeder.affiliation(families["Adeyemi"], "NORTH", "Funmi Adeyemi", date(2026, 9, 14))
            await seeder.affiliation(families["Nowak"], "NORTH", "Anna Nowak", date(2026, 9, 21), date(2026, 11, 2))
            await seeder.plan(families["Hussain"], "Zain", date(2026, 10, 12), "EMOTIONAL_ABUSE")
            await seeder.plan(families["Brown"], "Kai", date(2026, 2, 2), "NEGLECT", end=date(2026, 8, 3))
            # Standards 9 and 5.5: each setting's groups, their registers and home visits.
            people = await seeder.people(families)
            for activity in ACTIVITIES:
                await seeder.activity(activity, people)
            for contact in CONTACTS:
                await seeder.contact(families[contact[0]], people, contact)
            await seeder.user_requests(config.closure_days)
            await session.commit()
    finally:
        await engine.dispose()
    summary = f"{len(SETTINGS)} settings, {len(USERS)} users, {len(FAMILIES)} families, {len(ACTIVITIES)} activities"
    return f"demo data created: {summary}\n{logins()}"


def logins() -> str:
    lines = [f"demo logins (password {DEMO_PASSWORD}):"]
    lines += [f"  {username:<14} {role:<22} {code or 'all settings'}" for username, _, role, code in USERS]
    return "\n".join(lines)
