"""The eStart Administrator's views: the users (USER_ADMIN) and the audit log (AUDIT).

`users` pages by id, with roles, status, last login and compliance dates. `auditEvents` pages
newest first; each event carries the version of the policy that was in force when it was
written. The audit log of changes to family data holds the values changed: those are shown
only to a caller who may read that category in every setting (never the administrator, who
holds no family data), so the log never widens anyone's access. Both views are audited.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select

from authz.categories import FAMILY_CATEGORIES, Action, Category
from authz.scope import require_anywhere
from errors import BadUserInput
from models import AuditEvent, RoleAssignment, User
from resolvers.context import Context
from resolvers.history import FieldChangeRecord
from resolvers.ids import decode_id, decode_key, encode_id
from resolvers.inputs import AuditFilterData
from resolvers.user import UserRecord, as_user_record


def _first(ctx: Context, first: int) -> None:
    if not 1 <= first <= ctx.config.max_page_size:
        raise BadUserInput(f"first must be between 1 and {ctx.config.max_page_size}", "first")


def _after(after: str | None) -> int | None:
    if after is None:
        return None
    position = decode_key(after, "Cursor")
    if position is None:
        raise BadUserInput("after is not a cursor of this list", "after")
    return position


@dataclass(slots=True)
class UserPage:
    nodes: list[UserRecord]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_users(
    ctx: Context, first: int, after: str | None, search: str | None, setting_id: str | None
) -> UserPage:
    require_anywhere(ctx.require_principal(), Category.USER_ADMIN, Action.READ)
    _first(ctx, first)
    conditions: list[ColumnElement[bool]] = []
    if search is not None and search.strip():
        pattern = _like(search.strip()[:200])
        conditions.append(
            or_(User.username.like(pattern, escape="\\"), func.lower(User.display_name).like(pattern, escape="\\"))
        )
    if setting_id is not None:
        setting = decode_key(setting_id, "Setting")
        if setting is None:
            raise BadUserInput("settingId: no such setting", "settingId")
        conditions.append(
            exists(
                select(RoleAssignment.id).where(RoleAssignment.user_id == User.id, RoleAssignment.setting_id == setting)
            )
        )
    total = int(await ctx.session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0)
    position = _after(after)
    if position is not None:
        conditions.append(User.id > position)
    users = list(await ctx.session.scalars(select(User).where(*conditions).order_by(User.id).limit(first + 1)))
    page = users[:first]
    roles: dict[int, list[tuple[str, int | None]]] = {user.id: [] for user in page}
    if page:
        rows = await ctx.session.execute(
            select(RoleAssignment.user_id, RoleAssignment.role, RoleAssignment.setting_id)
            .where(RoleAssignment.user_id.in_(list(roles)))
            .order_by(RoleAssignment.id)
        )
        for row in rows:
            roles[row.user_id].append((row.role, row.setting_id))
    nodes = [as_user_record(ctx, user, roles[user.id]) for user in page]
    ctx.audit.read(
        "user.listed",
        "User",
        None,
        category=Category.USER_ADMIN,
        changes={"search": search, "settingId": setting_id, "count": len(nodes)},
    )
    return UserPage(
        nodes=nodes,
        has_next_page=len(users) > first,
        end_cursor=encode_id("Cursor", page[-1].id) if page else None,
        total_count=total,
    )


@dataclass(slots=True)
class AuditEventRecord:
    id: int
    at: datetime
    user_name: str | None
    action: str
    category: Category | None
    subject_id: str | None
    setting_id: int | None
    changes: list[FieldChangeRecord]
    policy_version: str


@dataclass(slots=True)
class AuditPage:
    nodes: list[AuditEventRecord]
    has_next_page: bool
    end_cursor: str | None


def _any_id(value: str) -> tuple[str, int] | None:
    """(type, key) of an opaque ID of any type."""
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(value[:64] + "=" * (-len(value[:64]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name = raw.partition(":")[0]
    return decode_id(value, type_name) if type_name.isidentifier() else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def changes_of(changes: Any) -> list[FieldChangeRecord]:
    """An event's `changes` as field changes: {"field": {"before", "after"}} entries as they are;
    {"before": {...}, "after": {...}} split by field; any other entry as its value after."""
    if not isinstance(changes, dict):
        return []
    result: list[FieldChangeRecord] = []
    for name, value in changes.items():
        if name in ("before", "after") and isinstance(value, dict):
            continue
        if isinstance(value, dict) and ("before" in value or "after" in value):
            result.append(FieldChangeRecord(name, _text(value.get("before")), _text(value.get("after"))))
        else:
            result.append(FieldChangeRecord(name, None, _text(value)))
    before, after = changes.get("before"), changes.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        after = after if isinstance(after, dict) else {}
        for name in dict.fromkeys([*before, *after]):
            result.append(FieldChangeRecord(name, _text(before.get(name)), _text(after.get(name))))
    return result


async def list_audit_events(ctx: Context, filters: AuditFilterData, first: int, after: str | None) -> AuditPage:
    principal = require_anywhere(ctx.require_principal(), Category.AUDIT, Action.READ)
    _first(ctx, first)
    conditions: list[ColumnElement[bool]] = []
    user_id, subject_id, category = filters["user_id"], filters["subject_id"], filters["category"]
    if user_id is not None:
        user = decode_key(user_id, "User")
        if user is None:
            raise BadUserInput("userId: no such user", "filter.userId")
        conditions.append(AuditEvent.user_id == user)
    if subject_id is not None:
        subject = _any_id(subject_id)
        if subject is None:
            raise BadUserInput("subjectId is not an id", "filter.subjectId")
        conditions += [AuditEvent.record_type == subject[0], AuditEvent.record_id == subject[1]]
    if category is not None:
        conditions.append(AuditEvent.category == category.name)
    if filters["action"] is not None:
        conditions.append(AuditEvent.action == filters["action"])
    if filters["date_from"] is not None:
        conditions.append(AuditEvent.at >= filters["date_from"])
    if filters["date_to"] is not None:
        conditions.append(AuditEvent.at <= filters["date_to"])
    position = _after(after)
    if position is not None:
        conditions.append(AuditEvent.id < position)
    rows = (
        await ctx.session.execute(
            select(AuditEvent, User.display_name)
            .outerjoin(User, User.id == AuditEvent.user_id)
            .where(*conditions)
            .order_by(AuditEvent.id.desc())
            .limit(first + 1)
        )
    ).all()
    grants = principal.grants
    nodes = []
    for event, user_name in rows[:first]:
        category = None if event.category is None else Category[event.category]
        # Changed values of family data: only for who may read that category everywhere.
        shown = category not in FAMILY_CATEGORIES or grants.settings_for(category, Action.READ) is None
        nodes.append(
            AuditEventRecord(
                id=event.id,
                at=event.at,
                user_name=user_name,
                action=event.action,
                category=category,
                subject_id=None if event.record_id is None else encode_id(event.record_type, event.record_id),
                setting_id=event.setting_id,
                changes=changes_of(event.changes) if shown else [],
                policy_version=event.policy_version,
            )
        )
    ctx.audit.read(
        "audit.listed",
        "AuditEvent",
        None,
        category=Category.AUDIT,
        changes={"filter": {k: _text(v) for k, v in filters.items() if v is not None}, "count": len(nodes)},
    )
    return AuditPage(
        nodes=nodes,
        has_next_page=len(rows) > first,
        end_cursor=encode_id("Cursor", nodes[-1].id) if nodes else None,
    )
