"""The floor: hand-written SQL for the data of each workload, nested in Python and serialized
with orjson into exactly the JSON the GraphQL service answers (`{"data": ...}`).

It does the same work a hand-written REST endpoint would: authenticate the bearer token (one
statement: session, user and role assignments), fold the roles into grants with the app's own
precomputed matrix (authz.grants, memoized, no enforce call once warm), read with a few batched
SQLAlchemy Core statements (no ORM, no GraphQL), mask denied fields, write the read-audit
events the service writes (confidential notes, child-protection plans) in one insert, and
encode with orjson. It is not a second implementation of the service: it answers only the
workloads' documents.

Statements per request: families page 5 (auth, count, page, people, affiliations), and with
the families' confidential notes (b) 1 more plus 1 audit insert when any are readable;
family detail 7 + 1 audit insert; search 2.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import BindParameter, Table, and_, bindparam, func, insert, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth.sessions import token_hash
from authz.categories import Action, Category
from authz.enforcer import Decisions
from authz.grants import Access, GrantBook, Grants
from authz.scope import listed, scope_of
from errors import Code
from models import (
    Affiliation,
    AuditEvent,
    Carer,
    CarerChild,
    Child,
    ChildProtectionPlan,
    Family,
    LoginSession,
    Note,
    RoleAssignment,
    Setting,
    User,
)
from models.base import utcnow
from resolvers.ids import decode_key, encode_id

F: Table = Family.__table__  # type: ignore[assignment]
S: Table = Setting.__table__  # type: ignore[assignment]
C: Table = Carer.__table__  # type: ignore[assignment]
K: Table = Child.__table__  # type: ignore[assignment]
A: Table = Affiliation.__table__  # type: ignore[assignment]
N: Table = Note.__table__  # type: ignore[assignment]
U: Table = User.__table__  # type: ignore[assignment]
CC: Table = CarerChild.__table__  # type: ignore[assignment]
CP: Table = ChildProtectionPlan.__table__  # type: ignore[assignment]
LS: Table = LoginSession.__table__  # type: ignore[assignment]
RA: Table = RoleAssignment.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]

AUTH = (
    select(U.c.id, U.c.display_name, RA.c.role, RA.c.setting_id)
    .select_from(LS.join(U, U.c.id == LS.c.user_id).outerjoin(RA, RA.c.user_id == U.c.id))
    .where(
        LS.c.token_hash == bindparam("token_hash"),
        LS.c.revoked_at.is_(None),
        LS.c.expires_at > bindparam("now"),
        U.c.is_active,
    )
)
PAGE_COLUMNS = (
    F.c.id, F.c.version, F.c.registered_setting_id, F.c.address_line1, F.c.address_line2, F.c.town, F.c.postcode,
    F.c.general_note, S.c.code.label("setting_code"), S.c.name.label("setting_name"),
)  # fmt: skip
PERSON_COLUMNS = ("id", "family_id", "first_name", "last_name", "date_of_birth", "gender", "ethnicity", "language")


def _people(where: Any) -> Any:
    """Carers and children in one statement, ordered as the service orders them (by key)."""
    parts = [
        select(literal(kind).label("kind"), *(table.c[name] for name in PERSON_COLUMNS)).where(where(table))
        for kind, table in (("Carer", C), ("Child", K))
    ]
    people = union_all(*parts).subquery()
    return select(people).order_by(people.c.kind, people.c.id)


AFFILIATION_COLUMNS = (
    A.c.id, A.c.family_id, A.c.setting_id, A.c.consent_given_by, A.c.consent_date, A.c.revoked_at,
    S.c.code.label("setting_code"), S.c.name.label("setting_name"),
)  # fmt: skip
IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
PEOPLE_OF_PAGE = _people(lambda t: t.c.family_id.in_(IDS))
AFFILIATIONS_OF_PAGE = (
    select(*AFFILIATION_COLUMNS).join(S, S.c.id == A.c.setting_id).where(A.c.family_id.in_(IDS)).order_by(A.c.id)
)
FAMILY = select(*PAGE_COLUMNS).join(S, S.c.id == F.c.registered_setting_id).where(F.c.id == bindparam("family"))
PEOPLE_OF_FAMILY = _people(lambda t: t.c.family_id == bindparam("family"))
AFFILIATIONS_OF_FAMILY = (
    select(*AFFILIATION_COLUMNS)
    .join(S, S.c.id == A.c.setting_id)
    .where(A.c.family_id == bindparam("family"))
    .order_by(A.c.id)
)
NOTES_OF_FAMILY = (
    select(
        N.c.id,
        N.c.subject_type,
        N.c.subject_id,
        N.c.kind,
        N.c.text,
        N.c.created_at,
        N.c.setting_id,
        U.c.display_name.label("author_name"),
        S.c.code.label("setting_code"),
        S.c.name.label("setting_name"),
    )
    .join(U, U.c.id == N.c.author_id)
    .join(S, S.c.id == N.c.setting_id)
    .where(N.c.family_id == bindparam("family"))
    .order_by(N.c.created_at, N.c.id)
)
RELATIONSHIPS_OF_FAMILY = (
    select(CC.c.carer_id, CC.c.child_id, CC.c.relationship)
    .join(C, C.c.id == CC.c.carer_id)
    .where(C.c.family_id == bindparam("family"))
    .order_by(CC.c.id)
)
CONFIDENTIAL_NOTES_OF_PAGE = (
    select(
        N.c.id,
        N.c.subject_id,
        N.c.kind,
        N.c.text,
        N.c.created_at,
        N.c.setting_id,
        U.c.display_name.label("author_name"),
        S.c.code.label("setting_code"),
        S.c.name.label("setting_name"),
    )
    .join(U, U.c.id == N.c.author_id)
    .join(S, S.c.id == N.c.setting_id)
    .where(N.c.subject_type == "family", N.c.kind == "CONFIDENTIAL", N.c.subject_id.in_(IDS))
    .order_by(N.c.created_at, N.c.id)
)
OPEN_PLANS_OF_FAMILY = (
    select(CP.c.id, CP.c.child_id, CP.c.start_date, CP.c.end_date, CP.c.category)
    .join(K, K.c.id == CP.c.child_id)
    .where(K.c.family_id == bindparam("family"), CP.c.end_date.is_(None))
)
SEARCH_LIMIT = 100


@dataclass(slots=True)
class FloorPrincipal:
    user_id: int
    assignments: tuple[tuple[str, int | None], ...]
    grants: Grants


class Denied:
    """FORBIDDEN errors of one response, as the service words them."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, path: list[Any], category: Category) -> None:
        self.errors.append(
            {
                "message": f"Not allowed to read {category.name} data here",
                "path": path,
                "extensions": {"code": Code.FORBIDDEN, "category": category.name},
            }
        )


def _setting(setting_id: int, code: str, name: str) -> dict[str, Any]:
    return {"id": encode_id("Setting", setting_id), "code": code, "name": name}


def _body(data: dict[str, Any], denied: Denied | None = None) -> bytes:
    if denied is not None and denied.errors:
        return orjson.dumps({"data": data, "errors": denied.errors})
    return orjson.dumps({"data": data})


def _person(p: Any, secondary: bool) -> dict[str, Any]:
    kind, key, _family, first, last, born, gender, ethnicity, language = p
    return {
        "id": encode_id(kind, key),
        "firstName": first,
        "lastName": last,
        "dateOfBirth": born,
        "gender": gender,
        "ethnicity": ethnicity if secondary else None,
        "language": language if secondary else None,
    }


READ_ACTIONS = {Category.CONFIDENTIAL: "confidential_notes.read", Category.CP_PLAN: "cp_plan.read"}


def _note(n: Any) -> dict[str, Any]:
    return {
        "id": encode_id("Note", n.id),
        "kind": n.kind,
        "text": n.text,
        "createdAt": n.created_at,
        "authorName": n.author_name,
        "setting": _setting(n.setting_id, n.setting_code, n.setting_name),
    }


def _read_event(
    user_id: int, access: Access, category: Category, record_type: str, record_id: int, family_id: int
) -> dict[str, Any]:
    """The audit event the service writes when a caller reads audited data of a record."""
    return {
        "at": utcnow(),
        "user_id": user_id,
        "setting_id": access.setting,
        "action": READ_ACTIONS[category],
        "category": category.name,
        "record_type": record_type,
        "record_id": record_id,
        "family_id": family_id,
        "changes": None,
    }


def _affiliation(a: Any) -> dict[str, Any]:
    return {
        "id": encode_id("Affiliation", a.id),
        "consentGivenBy": a.consent_given_by,
        "consentDate": a.consent_date,
        "revokedAt": a.revoked_at,
        "setting": _setting(a.setting_id, a.setting_code, a.setting_name),
    }


class Floor:
    """Hand-written answers to the workloads, on its own engine (the same driver and pool)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.decisions = Decisions()
        self.grant_book = GrantBook(self.decisions)

    async def principal(self, connection: AsyncConnection, token: str) -> FloorPrincipal:
        rows = (await connection.execute(AUTH, {"token_hash": token_hash(token), "now": utcnow()})).all()
        if not rows:
            raise PermissionError("unknown token")
        assignments = tuple((r.role, r.setting_id) for r in rows if r.role is not None)
        return FloorPrincipal(rows[0].id, assignments, self.grant_book.grants_for(assignments))

    # (a) and (b) ---------------------------------------------------------------------------
    async def families(self, token: str, first: int, confidential: bool = False) -> bytes:
        """A page of families; with `confidential`, each family's confidential notes too (b)."""
        async with self.engine.connect() as connection:
            principal = await self.principal(connection, token)
            grants = principal.grants
            assert grants.allows_anywhere(Category.PRIMARY, Action.READ)
            reach = listed(grants)  # the app's own list predicate (authz/scope.py)
            conditions = [] if reach is None else [reach]
            total = (await connection.execute(select(func.count()).select_from(F).where(*conditions))).scalar_one()
            page = (
                await connection.execute(
                    select(*PAGE_COLUMNS)
                    .join(S, S.c.id == F.c.registered_setting_id)
                    .where(*conditions)
                    .order_by(F.c.id)
                    .limit(first + 1)
                )
            ).all()
            has_next = len(page) > first
            page = page[:first]
            ids = [row[0] for row in page]
            people: dict[tuple[str, int], list[Any]] = defaultdict(list)
            affiliations: dict[int, list[Any]] = defaultdict(list)
            if ids:
                for row in (await connection.execute(PEOPLE_OF_PAGE, {"ids": ids})).all():
                    people[(row[0], row[2])].append(row)
                for row in (await connection.execute(AFFILIATIONS_OF_PAGE, {"ids": ids})).all():
                    affiliations[row[1]].append(row)
            accesses = [grants.access_for(scope_of(row[2], affiliations.get(row[0], ()))) for row in page]
            confidential_notes: dict[int, list[dict[str, Any]]] = {}
            if confidential:
                readable = [
                    (row[0], access) for row, access in zip(page, accesses, strict=True)
                    if Category.CONFIDENTIAL in access.read
                ]  # fmt: skip
                if readable:
                    confidential_notes = {fid: [] for fid, _ in readable}
                    params = {"ids": [fid for fid, _ in readable]}
                    for n in (await connection.execute(CONFIDENTIAL_NOTES_OF_PAGE, params)).all():
                        confidential_notes[n.subject_id].append(_note(n))
                    audit = [
                        _read_event(principal.user_id, access, Category.CONFIDENTIAL, "Family", fid, fid)
                        for fid, access in readable
                    ]
                    await connection.execute(insert(AUDIT), audit)
                    await connection.commit()
        denied = Denied()
        nodes = []
        read_secondary = Category.SECONDARY
        for index, (fid, version, registered, line1, line2, town, postcode, note, code, name) in enumerate(page):
            affs = affiliations.get(fid, [])
            secondary = read_secondary in accesses[index].read
            carers = [_person(p, secondary) for p in people.get(("Carer", fid), ())]
            kids = [_person(p, secondary) for p in people.get(("Child", fid), ())]
            nodes.append(
                {
                    "id": encode_id("Family", fid),
                    "version": version,
                    "registeredSetting": _setting(registered, code, name),
                    "address": {"line1": line1, "line2": line2, "town": town, "postcode": postcode},
                    "generalNote": note if secondary else None,
                    "affiliations": ([_affiliation(a) for a in affs] if affs else []) if secondary else None,
                    "carers": carers,
                    "children": kids,
                }
            )
            base: list[Any] = ["families", "nodes", index]
            if confidential:
                nodes[-1]["confidentialNotes"] = confidential_notes.get(fid)
                if fid not in confidential_notes:
                    denied.add([*base, "confidentialNotes"], Category.CONFIDENTIAL)
            if not secondary:
                denied.add([*base, "generalNote"], Category.SECONDARY)
                denied.add([*base, "affiliations"], Category.SECONDARY)
                for group, members in (("carers", carers), ("children", kids)):
                    for position in range(len(members)):
                        denied.add([*base, group, position, "ethnicity"], Category.SECONDARY)
                        denied.add([*base, group, position, "language"], Category.SECONDARY)
        data = {
            "families": {
                "totalCount": total,
                "pageInfo": {
                    "hasNextPage": has_next,
                    "endCursor": encode_id("Cursor", page[-1].id) if page else None,
                },
                "nodes": nodes,
            }
        }
        return _body(data, denied)

    # (c) -----------------------------------------------------------------------------------
    async def family(self, token: str, family_id: str) -> bytes:
        key = decode_key(family_id, "Family")
        async with self.engine.connect() as connection:
            principal = await self.principal(connection, token)
            assert principal.grants.allows_anywhere(Category.PRIMARY, Action.READ)
            f = None if key is None else (await connection.execute(FAMILY, {"family": key})).first()
            if f is None:
                return orjson.dumps(
                    {"data": {"family": None}, "errors": [{"message": "Not found", "path": ["family"],
                                                           "extensions": {"code": Code.NOT_FOUND}}]}
                )  # fmt: skip
            params = {"family": key}
            people = (await connection.execute(PEOPLE_OF_FAMILY, params)).all()
            affs = (await connection.execute(AFFILIATIONS_OF_FAMILY, params)).all()
            notes_rows = (await connection.execute(NOTES_OF_FAMILY, params)).all()
            relationships = (await connection.execute(RELATIONSHIPS_OF_FAMILY, params)).all()
            plans = (await connection.execute(OPEN_PLANS_OF_FAMILY, params)).all()
            access = principal.grants.access_for(scope_of(f.registered_setting_id, affs))
            data, audit = self._detail(principal, f, access, people, affs, notes_rows, relationships, plans)
            if audit:
                await connection.execute(insert(AUDIT), audit)
                await connection.commit()
        return _body({"family": data[0]}, data[1])

    def _detail(
        self,
        principal: FloorPrincipal,
        f: Any,
        access: Access,
        people: Sequence[Any],
        affs: Sequence[Any],
        notes_rows: Sequence[Any],
        relationships: Sequence[Any],
        plans: Sequence[Any],
    ) -> tuple[tuple[dict[str, Any], Denied], list[dict[str, Any]]]:
        denied = Denied()
        audit: list[dict[str, Any]] = []
        read = access.read
        notes: dict[tuple[str, int, str], list[dict[str, Any]]] = defaultdict(list)
        for n in notes_rows:
            notes[(n.subject_type, n.subject_id, n.kind)].append(_note(n))
        children = {p.id: p for p in people if p.kind == "Child"}
        related: dict[int, list[Any]] = defaultdict(list)
        for r in relationships:
            related[r.carer_id].append(r)
        open_plans = {p.child_id: p for p in plans}

        def guarded(path: list[Any], category: Category, value: Any) -> Any:
            if category in read:
                return value() if callable(value) else value
            denied.add(path, category)
            return None

        def confidential(path: list[Any], subject_type: str, record_type: str, subject_id: int) -> Any:
            if Category.CONFIDENTIAL not in read:
                denied.add(path, Category.CONFIDENTIAL)
                return None
            audit.append(_read_event(principal.user_id, access, Category.CONFIDENTIAL, record_type, subject_id, f.id))
            return notes.get((subject_type, subject_id, "CONFIDENTIAL"), [])

        def person(p: Any, path: list[Any]) -> dict[str, Any]:
            kind = p.kind.lower()
            out = {
                "id": encode_id(p.kind, p.id),
                "firstName": p.first_name,
                "lastName": p.last_name,
                "dateOfBirth": p.date_of_birth,
                "gender": p.gender,
                "ethnicity": guarded([*path, "ethnicity"], Category.SECONDARY, p.ethnicity),
                "language": guarded([*path, "language"], Category.SECONDARY, p.language),
                "notes": guarded([*path, "notes"], Category.SECONDARY, notes.get((kind, p.id, "HISTORY"), [])),
                "confidentialNotes": confidential([*path, "confidentialNotes"], kind, p.kind, p.id),
            }
            if p.kind == "Carer":
                out["relationships"] = [
                    {
                        "relationship": r.relationship,
                        "child": {
                            "id": encode_id("Child", r.child_id),
                            "firstName": children[r.child_id].first_name,
                            "lastName": children[r.child_id].last_name,
                        },
                    }
                    for r in related.get(p.id, ())
                ]
            else:
                if Category.CP_PLAN in read:  # whether a child has a plan is itself audited
                    audit.append(_read_event(principal.user_id, access, Category.CP_PLAN, "Child", p.id, f.id))
                plan = open_plans.get(p.id)
                out["childProtectionPlan"] = guarded(
                    [*path, "childProtectionPlan"],
                    Category.CP_PLAN,
                    None
                    if plan is None
                    else {
                        "id": encode_id("ChildProtectionPlan", plan.id),
                        "startDate": plan.start_date,
                        "endDate": plan.end_date,
                        "category": plan.category,
                    },
                )
            return out

        base: list[Any] = ["family"]
        data = {
            "id": encode_id("Family", f.id),
            "version": f.version,
            "registeredSetting": _setting(f.registered_setting_id, f.setting_code, f.setting_name),
            "address": {"line1": f.address_line1, "line2": f.address_line2, "town": f.town, "postcode": f.postcode},
            "generalNote": guarded([*base, "generalNote"], Category.SECONDARY, f.general_note),
            "access": {
                "read": [c.name for c in Category if c in access.read],
                "write": [c.name for c in Category if c in access.write],
            },
            "affiliations": guarded(
                [*base, "affiliations"], Category.SECONDARY, lambda: [_affiliation(a) for a in affs]
            ),
            "notes": guarded([*base, "notes"], Category.SECONDARY, notes.get(("family", f.id, "HISTORY"), [])),
            "confidentialNotes": confidential([*base, "confidentialNotes"], "family", "Family", f.id),
        }
        carers = [p for p in people if p.kind == "Carer"]
        kids = [p for p in people if p.kind == "Child"]
        data["carers"] = [person(p, [*base, "carers", i]) for i, p in enumerate(carers)]
        data["children"] = [person(p, [*base, "children", i]) for i, p in enumerate(kids)]
        return (data, denied), audit

    # (d) -----------------------------------------------------------------------------------
    async def search(self, token: str, name: str) -> bytes:
        text = " ".join(name.split())
        pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts = []
        for type_name, table in (("Carer", C), ("Child", K)):
            full_name = func.lower(table.c.first_name + " " + table.c.last_name)
            parts.append(
                select(
                    literal(type_name).label("type_name"),
                    table.c.id,
                    table.c.family_id,
                    table.c.first_name,
                    table.c.last_name,
                    table.c.date_of_birth,
                    F.c.postcode,
                    F.c.registered_setting_id,
                )
                .join(F, F.c.id == table.c.family_id)
                .where(
                    or_(
                        func.lower(table.c.first_name).like(pattern, escape="\\"),
                        func.lower(table.c.last_name).like(pattern, escape="\\"),
                        full_name.like(pattern, escape="\\"),
                    )
                )
            )
        matches = union_all(*parts).subquery()
        statement = (
            select(matches, S.c.code.label("setting_code"), S.c.name.label("setting_name"))
            .join(S, and_(S.c.id == matches.c.registered_setting_id))
            .order_by(matches.c.last_name, matches.c.first_name, matches.c.type_name, matches.c.id)
            .limit(SEARCH_LIMIT)
        )
        async with self.engine.connect() as connection:
            principal = await self.principal(connection, token)
            assert principal.grants.allows_anywhere(Category.PRIMARY, Action.READ)
            rows = (await connection.execute(statement)).all()
        return _body(
            {
                "searchPeople": [
                    {
                        "personId": encode_id(r.type_name, r.id),
                        "familyId": encode_id("Family", r.family_id),
                        "firstName": r.first_name,
                        "lastName": r.last_name,
                        "dateOfBirth": r.date_of_birth,
                        "postcode": r.postcode,
                        "registeredSetting": _setting(r.registered_setting_id, r.setting_code, r.setting_name),
                    }
                    for r in rows
                ]
            }
        )
