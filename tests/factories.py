"""Fresh data for tests that write: a setting of their own, staff in it, unique names, and a
look at the audit trail. The session-wide `world` (conftest.py) is shared; a test that
writes builds what it writes on here, so the order tests run in never matters."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from models import AuditEvent
from resolvers.ids import decode_key
from tests.conftest import Api, Family, World, create_user, register_family


def unique_name() -> str:
    """A surname no other test uses: letters only, so every naming rule accepts it."""
    return "Q" + "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex[:9])


def key_of(opaque_id: str, type_name: str) -> int:
    """The database key behind an API id (tests may look inside; clients never do)."""
    key = decode_key(opaque_id, type_name)
    assert key is not None, f"{opaque_id!r} is not a {type_name} id"
    return key


async def fresh_setting(api: Api, world: World) -> str:
    data = await api.ok(
        "mutation($input: SettingInput!) { createSetting(input: $input) { id } }",
        {"input": {"code": "T" + uuid.uuid4().hex[:8].upper(), "name": f"Test centre {unique_name()}"}},
        world.admin_token,
    )
    return data["createSetting"]["id"]  # type: ignore[no-any-return]


async def fresh_user(api: Api, world: World, role: str, *setting_ids: str | None) -> str:
    """A new user holding `role` in each setting given (None: all settings); returns a token."""
    username = f"{role.lower().replace('_', '-')}-{uuid.uuid4().hex[:10]}"
    return await create_user(api, world.admin_token, username, [{"role": role, "settingId": s} for s in setting_ids])


async def user_key(api: Api, token: str) -> int:
    data = await api.ok("{ me { id } }", token=token)
    return key_of(data["me"]["id"], "User")


@dataclass
class Centre:
    """A setting of the test's own with a manager and a head of centre in it."""

    setting_id: str
    manager: str
    head_of_centre: str

    async def family(self, api: Api, surname: str | None = None, **extra: Any) -> Family:
        return await register_family(api, self.manager, self.setting_id, surname or unique_name(), **extra)


async def fresh_centre(api: Api, world: World) -> Centre:
    setting_id = await fresh_setting(api, world)
    return Centre(
        setting_id,
        await fresh_user(api, world, "MANAGER", setting_id),
        await fresh_user(api, world, "HEAD_OF_CENTRE", setting_id),
    )


async def last_audit_id(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))))


async def audit_events_since(app: Any, last_id: int) -> list[AuditEvent]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id))
        return list(rows)


def changed_pairs(changes: dict[str, Any] | None) -> set[tuple[Any, Any]]:
    """(before, after) pairs of an audit event's changes, whichever of the two natural shapes
    it uses: {field: {before, after}} or {before: {field: …}, after: {field: …}}."""
    if not changes:
        return set()
    if set(changes) <= {"before", "after"}:
        before, after = changes.get("before") or {}, changes.get("after") or {}
        return {(before.get(name), after.get(name)) for name in set(before) | set(after)}
    return {(change.get("before"), change.get("after")) for change in changes.values() if isinstance(change, dict)}


def within(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment <= end


def activity_input(setting_id: str, **changes: Any) -> dict[str, Any]:
    """An ActivityInput of the nine fields of standards 9 and the event type; `changes` override."""
    return {
        "settingId": setting_id,
        "description": "Stay and play",
        "provider": "Northgate Children's Centre",
        "projectLeader": "Paula Walsh",
        "frequency": "WEEKLY",
        "outcomeType": "SCHOOL_READINESS",
        "outcome": "Children play and learn together",
        "accessGroup": "OPEN",
        "eventType": "STAY_AND_PLAY",
        "startDate": "2026-09-07",
        "startTime": "09:30:00",
        "durationMinutes": 90,
        "aims": "Early learning through play; parents meet other parents",
        **changes,
    }
