"""The ContactPoint feed (standards 8): children's name, date of birth, gender, address and the
settings involved with them, as an incremental change log a consumer mirrors.

A write that changes a fed field marks the family or child (`touch_family`, `touch_child`); the
marks become rows of the log just before that transaction commits (a transactional outbox: a
rolled-back write leaves no change, a committed one always leaves one). Rows are numbered in
commit order — on PostgreSQL appenders take one transaction-level advisory lock before they
number their rows, and hold it until they commit; SQLite has one writer at a time — so a
consumer that has read up to `seq` never later finds a smaller `seq` committed: nothing is
skipped. A change row carries no state: the page serves each child's state as it is now, so
replaying the log converges on the current children whatever the batch sizes.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, event, exists, func, insert, literal, select, text
from sqlalchemy.orm import Session, aliased

from authz.categories import Action, Category
from authz.scope import require_anywhere
from errors import BadUserInput
from models import Child, ContactPointChange, Family
from models.base import utcnow
from resolvers.context import Context
from resolvers.ids import decode_key, encode_id
from resolvers.records import AddressRecord

UPSERT, REMOVED = "UPSERT", "REMOVED"
MAX_PAGE = 5000
_FAMILIES, _CHILDREN = "contactpoint.families", "contactpoint.children"
# Any constant shared by every appender: the advisory lock that orders the log's rows.
_APPEND_LOCK = 0x45535443  # "ESTC"


def touch_family(session: Any, family_id: int) -> None:
    """Every current child of the family gets an UPSERT when this transaction commits (its
    address, registration or settings involved changed)."""
    session.info.setdefault(_FAMILIES, set()).add(family_id)


def touch_child(session: Any, child_id: int, kind: str = UPSERT) -> None:
    session.info.setdefault(_CHILDREN, {})[child_id] = kind


@event.listens_for(Session, "before_commit")
def _append_changes(session: Session) -> None:
    families: set[int] = session.info.pop(_FAMILIES, set())
    children: dict[int, str] = session.info.pop(_CHILDREN, {})
    if not families and not children:
        return
    session.flush()  # the rows the changes name are written
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    now = utcnow()
    if families:
        current = (
            select(Child.id, literal(UPSERT), literal(now, ContactPointChange.at.type))
            .where(Child.family_id.in_(families), Child.left_on.is_(None))
            .order_by(Child.id)
        )
        connection.execute(insert(ContactPointChange).from_select(["child_id", "kind", "at"], current))
    if children:
        connection.execute(
            insert(ContactPointChange),
            [{"child_id": child, "kind": kind, "at": now} for child, kind in sorted(children.items())],
        )


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_FAMILIES, None)
    session.info.pop(_CHILDREN, None)


@dataclass(slots=True)
class FedChild:
    id: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    gender: str
    address: AddressRecord
    settings: list[Any]


@dataclass(slots=True)
class Change:
    seq: int
    kind: str
    child_id: int
    at: datetime
    child: FedChild | None


@dataclass(slots=True)
class ChangePage:
    changes: list[Change]
    end_cursor: str | None
    has_more: bool


FED = (
    ContactPointChange.seq,
    ContactPointChange.kind,
    ContactPointChange.child_id,
    ContactPointChange.at,
    Child.first_name,
    Child.last_name,
    Child.date_of_birth,
    Child.gender,
    Family.id.label("family_id"),
    Family.registered_setting_id,
    Family.address_line1,
    Family.address_line2,
    Family.town,
    Family.postcode,
)


async def changes(ctx: Context, after: str | None, first: int) -> ChangePage:
    """A page of the log after `after` (None: from the beginning), each UPSERT with the
    child's current fed state. Three statements whatever the page size."""
    principal = require_anywhere(ctx.require_principal(), Category.CONTACTPOINT, Action.READ)
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}", "first")
    position = 0 if after is None else decode_key(after, "ContactPoint")
    if position is None:
        raise BadUserInput("after is not a cursor of this feed", "after")
    rows = list(
        await ctx.reader.rows(
            select(*FED)
            .outerjoin(Child, and_(Child.id == ContactPointChange.child_id, ContactPointChange.kind == UPSERT))
            .outerjoin(Family, Family.id == Child.family_id)
            .where(ContactPointChange.seq > position)
            .order_by(ContactPointChange.seq)
            .limit(first + 1)
        )
    )
    has_more, rows = len(rows) > first, rows[:first]
    families = sorted({row.family_id for row in rows if row.family_id is not None})
    involved: dict[int, list[int]] = {}  # settings involved with each family's children
    for row in rows:
        if row.family_id is not None:
            involved[row.family_id] = [row.registered_setting_id]
    for family, affs in zip(families, await ctx.loaders.affiliations.load_many(families), strict=True):
        involved[family] = sorted({*involved[family], *(a.setting_id for a in affs if a.revoked_at is None)})
    wanted = sorted({setting for ids in involved.values() for setting in ids})
    settings = dict(zip(wanted, await ctx.loaders.setting.load_many(wanted), strict=True))
    page = [_change(row, [settings[s] for s in involved.get(row.family_id, [])]) for row in rows]
    end = rows[-1].seq if rows else position
    ctx.audit.read(
        "contactpoint.page", "ContactPointChange", None, category=Category.CONTACTPOINT,
        changes={"after": position, "to": end, "count": len(page)}, user_id=principal.user_id,
    )  # fmt: skip
    return ChangePage(page, encode_id("ContactPoint", end) if end else None, has_more)


def _change(row: Any, settings: list[Any]) -> Change:
    child = None
    if row.kind == UPSERT and row.family_id is not None:
        address = AddressRecord(row.address_line1, row.address_line2, row.town, row.postcode)
        child = FedChild(row.child_id, row.first_name, row.last_name, row.date_of_birth, row.gender, address, settings)
    return Change(row.seq, row.kind if child is not None else REMOVED, row.child_id, row.at, child)


async def compact(session: Any, batch: int = 10_000) -> AsyncIterator[tuple[int, int, int]]:
    """Drop UPSERTs superseded by a later change of the same child, `batch` rows of the log at
    a time, each batch its own transaction; what any replay converges to is unchanged (a
    consumer past the dropped row has it, one before it reads the later change). Yields
    (last seq examined, last seq of the log, rows dropped so far)."""
    later = aliased(ContactPointChange)
    superseded = exists(
        select(later.seq).where(later.child_id == ContactPointChange.child_id, later.seq > ContactPointChange.seq)
    )
    top = await session.scalar(select(func.max(ContactPointChange.seq))) or 0
    dropped = 0
    for start in range(0, top, batch):
        result = await session.execute(
            delete(ContactPointChange).where(
                ContactPointChange.seq > start,
                ContactPointChange.seq <= start + batch,
                ContactPointChange.kind == UPSERT,
                superseded,
            )
        )
        await session.commit()
        dropped += result.rowcount
        yield min(start + batch, top), top, dropped
