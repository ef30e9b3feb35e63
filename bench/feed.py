"""Issue 13's workload: the ContactPoint feed replayed from `after: null` to `hasMore: false`
in pages of 5,000 (f), as `bench-feed` (CONTACTPOINT_FEED), against a floor that reads the
outbox directly: per page one hand-written SELECT of the changes with their children,
families and registered settings, one of the page's families' unrevoked affiliations, and the
page's audit event, as the service writes it.

One call is the whole replay: every page is its own request (statements are per page), and
its answer is parsed for `endCursor` and `hasMore`, as a consumer must. The seeded log holds
an UPSERT for every child and a later one for a fifth of them (bench/seed.py). (f-small) is
the first page of 500: the statements per page must not depend on the page size.
Below N = 1,000 (the smoke run) the pages are 50 and 10 changes. A replay at N = 10,000 takes
seconds, so (f) runs 5 timed rounds and no warm-up (the checked and the counted calls warm it).
"""

import math
from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import Table, and_, bindparam, func, insert, select

from authz.categories import Action, Category
from bench.apps import Setup
from bench.floor import AUDIT, A, F, Floor, K, S, _setting
from bench.records import IMPLS
from bench.workloads import Call, Workload
from models import ContactPointChange
from models.base import utcnow
from resolvers.ids import decode_key, encode_id

CP: Table = ContactPointChange.__table__  # type: ignore[assignment]
PAGE, PAGE_SMALL = 5000, 500
QUICK_PAGE, QUICK_PAGE_SMALL = 50, 10  # below N = 1,000
ROUNDS = 5  # a replay at N = 10,000 takes seconds: 5 timed rounds, no warm-up

FEED_QUERY = """query Feed($after: String, $first: Int!) {
  contactPointChanges(after: $after, first: $first) {
    endCursor hasMore
    changes {
      cursor kind childId at
      child {
        id firstName lastName dateOfBirth gender
        address { line1 line2 town postcode }
        settings { id code name }
      }
    }
  }
}"""

PAGE_OF_CHANGES = (
    select(
        CP.c.seq, CP.c.kind, CP.c.child_id, CP.c.at, K.c.first_name, K.c.last_name, K.c.date_of_birth, K.c.gender,
        F.c.id.label("family_id"), F.c.registered_setting_id, F.c.address_line1, F.c.address_line2, F.c.town,
        F.c.postcode, S.c.code, S.c.name,
    )
    .select_from(
        CP.outerjoin(K, and_(K.c.id == CP.c.child_id, CP.c.kind == "UPSERT"))
        .outerjoin(F, F.c.id == K.c.family_id)
        .outerjoin(S, S.c.id == F.c.registered_setting_id)
    )
    .where(CP.c.seq > bindparam("after"))
    .order_by(CP.c.seq)
    .limit(bindparam("limit"))
)  # fmt: skip
AFFILIATED = (
    select(A.c.family_id, A.c.setting_id, S.c.code, S.c.name)
    .join(S, S.c.id == A.c.setting_id)
    .where(A.c.family_id.in_(bindparam("ids", expanding=True)), A.c.revoked_at.is_(None))
)


async def floor_page(floor: Floor, token: str, after: str | None, first: int) -> bytes:
    """One page of the feed from the outbox, in the service's JSON."""
    position = 0 if after is None else decode_key(after, "ContactPoint")
    assert position is not None
    async with floor.engine.connect() as connection:
        principal = await floor.principal(connection, token)
        assert principal.grants.allows_anywhere(Category.CONTACTPOINT, Action.READ)
        rows = (await connection.execute(PAGE_OF_CHANGES, {"after": position, "limit": first + 1})).all()
        has_more, rows = len(rows) > first, rows[:first]
        settings: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        for row in rows:
            if row.family_id is not None:
                settings[row.family_id][row.registered_setting_id] = _setting(
                    row.registered_setting_id, row.code, row.name
                )
        if settings:
            for a in await connection.execute(AFFILIATED, {"ids": sorted(settings)}):
                settings[a.family_id][a.setting_id] = _setting(a.setting_id, a.code, a.name)
        end = rows[-1].seq if rows else position
        event = {
            "at": utcnow(), "user_id": principal.user_id, "setting_id": None, "action": "contactpoint.page",
            "category": Category.CONTACTPOINT.name, "record_type": "ContactPointChange", "record_id": None,
            "family_id": None, "changes": {"after": position, "to": end, "count": len(rows)},
        }  # fmt: skip
        await connection.execute(insert(AUDIT), [event])
        await connection.commit()
    changes = []
    for row in rows:
        child = None
        if row.family_id is not None:
            involved = settings[row.family_id]
            child = {
                "id": encode_id("Child", row.child_id),
                "firstName": row.first_name,
                "lastName": row.last_name,
                "dateOfBirth": row.date_of_birth,
                "gender": row.gender,
                "address": {"line1": row.address_line1, "line2": row.address_line2, "town": row.town,
                            "postcode": row.postcode},
                "settings": [involved[key] for key in sorted(involved)],
            }  # fmt: skip
        changes.append(
            {
                "cursor": encode_id("ContactPoint", row.seq),
                "kind": "UPSERT" if child is not None else "REMOVED",
                "childId": encode_id("Child", row.child_id),
                "at": row.at,
                "child": child,
            }
        )
    page = {"endCursor": encode_id("ContactPoint", end) if end else None, "hasMore": has_more, "changes": changes}
    return orjson.dumps({"data": {"contactPointChanges": page}})


def replay(page: Any, first: int, pages: int | None = None) -> Call:
    """The feed from the beginning, to its end or for `pages` pages; the answer is
    {"data": [each page's answer]}."""

    async def call() -> bytes:
        bodies: list[bytes] = []
        after = None
        while pages is None or len(bodies) < pages:
            body = await page(after, first)
            bodies.append(body)
            answer = orjson.loads(body)
            assert not answer.get("errors"), answer["errors"]
            fed = answer["data"]["contactPointChanges"]
            if not fed["hasMore"]:
                return b'{"data":[' + b",".join(bodies) + b"]}"
            after = fed["endCursor"]
        return b'{"data":[' + b",".join(bodies) + b"]}"

    return call


async def workloads(s: Setup) -> list[Workload]:
    token = s.tokens["feed"]
    async with s.floor.engine.connect() as connection:
        changes = int((await connection.execute(select(func.count()).select_from(CP))).scalar_one())
    first, small = (PAGE, PAGE_SMALL) if s.n >= 1000 else (QUICK_PAGE, QUICK_PAGE_SMALL)
    pages = max(1, math.ceil(changes / first))
    same = {"authz-off": "floor", "standard": "floor", "service": "floor"}

    def pages_of(impl: str) -> Any:
        if impl == "floor":
            return lambda after, size: floor_page(s.floor, token, after, size)
        return lambda after, size: s.impls[impl].request(FEED_QUERY, {"after": after, "first": size}, token)

    def counted(bodies: dict[str, bytes]) -> str:
        replayed = orjson.loads(bodies["service"])["data"]
        seen = sum(len(page["data"]["contactPointChanges"]["changes"]) for page in replayed)
        assert len(replayed) == pages and seen == changes, f"replayed {seen} changes in {len(replayed)} pages"
        return f"{changes:,} changes in {pages} pages of {first:,}; statements per page"

    replays = {impl: replay(pages_of(impl), first) for impl in IMPLS}
    one_page: dict[str, Call] = {impl: replay(pages_of(impl), small, pages=1) for impl in IMPLS}
    return [
        Workload(
            "f",
            f"(f) feed replay, pages of {first:,}",
            changes,
            replays,
            same,
            check=counted,
            requests=pages,
            rounds=ROUNDS,
        ),
        Workload("f-small", f"(f-small) feed, first page of {small:,}", small, one_page, same),
    ]
