"""The audit trail of failed logins: aggregated, never dropped.

Every failure against an account or an address is counted in its throttle row (`unreported`)
and stays counted until a `login.failed` event carries it:
- an account that names a user: its first failure is written at once, then at most one event a
  minute per account, with the count since the last one (bounded by the number of users);
- names no user has, and addresses (an attacker can make up any number of both): the same, but
  each process writes at most `login_audit_events_per_minute` of these a minute; beyond that the
  counts wait in their rows;
- at most once a minute each process sweeps every count that has waited a minute into the log:
  one event per user, and one aggregated event per kind for the rest (`keys`, `count`,
  `aggregated: true`), so a flood costs a few events a minute and hides nothing;
- a row is purged only when nothing in it is unreported, and an administrator's unlock or a
  successful login writes what is pending before it forgets a row.
Every lockout is its own `login.lockout` event (at most one per `*_lock_after` failures of a
key). Neither passwords nor tokens reach the audit or logs; a name no user has appears only as
its 16-hex-digit keyed fingerprint (auth/login_key.py).
"""

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from auth.login_attempt import ACCOUNT, ADDRESS, SOURCE, Attempt, AuditSink, could_be_username
from models import LoginThrottle, User

AUDIT_INTERVAL = timedelta(minutes=1)
THROTTLES = cast(Table, LoginThrottle.__table__)
SWEEP_ROWS = 5000  # a sweep's share of work; the rest waits for the next one


class AuditBudget:
    """This process's allowance of individual events about names no user has and addresses."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.minute: datetime | None = None
        self.used = 0

    def take(self, now: datetime) -> bool:
        minute = now.replace(second=0, microsecond=0)
        if minute != self.minute:
            self.minute, self.used = minute, 0
        if self.used >= self.per_minute:
            return False
        self.used += 1
        return True


class LoginAudit:
    def __init__(self, per_minute: int) -> None:
        self.budget = AuditBudget(per_minute)
        self.swept_at: datetime | None = None  # this process's last sweep

    async def failure(self, attempt: Attempt, kind: str, user_id: int | None = None) -> None:
        """Count one failure for the audit trail; write it (with those not yet written) when
        this key has had no login.failed event for a minute."""
        now, key = attempt.now, attempt.keys[kind]
        dialect = postgresql if attempt.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(THROTTLES)
            .values(
                kind=kind,
                key=key,
                failures=0,
                window_start=now,
                last_failure_at=now,
                lockouts=0,
                unreported=1,
                user_id=user_id,
            )
            .on_conflict_do_update(
                index_elements=[THROTTLES.c.kind, THROTTLES.c.key],
                set_={
                    "unreported": THROTTLES.c.unreported + 1,
                    "user_id": func.coalesce(user_id, THROTTLES.c.user_id),
                },
            )
            .returning(THROTTLES.c.unreported, THROTTLES.c.reported_at, THROTTLES.c.user_id)
        )
        unreported, reported_at, known = (await attempt.session.execute(statement)).one()
        if reported_at is None or attempt.now - reported_at >= AUDIT_INTERVAL:
            await self._report(attempt, kind, unreported, known)

    async def lockout(self, attempt: Attempt, kind: str, until: datetime, lockouts: int) -> None:
        """Every lockout is written, whatever the budget."""
        record_type, record_id, subject = await self._subject(attempt, kind, None)
        attempt.audit.write(
            "login.lockout",
            record_type,
            record_id,
            changes={**subject, "until": until.isoformat(), "lockouts": lockouts},
        )

    async def report_pending(self, attempt: Attempt, user_id: int) -> None:
        """Write the account's failures not yet written (a success is about to forget them)."""
        unreported = await attempt.session.scalar(
            select(LoginThrottle.unreported).where(
                LoginThrottle.kind == ACCOUNT, LoginThrottle.key == attempt.keys[ACCOUNT]
            )
        )
        if unreported:
            await self._report(attempt, ACCOUNT, unreported, user_id)

    async def sweep_if_due(self, attempt: Attempt) -> None:
        """At most once a minute per process: write every count that has waited a minute. In a
        transaction of its own, committed at once, so its row locks never meet a login's."""
        if self.swept_at is not None and attempt.now - self.swept_at < AUDIT_INTERVAL:
            return
        self.swept_at = attempt.now
        waited = or_(LoginThrottle.reported_at.is_(None), LoginThrottle.reported_at <= attempt.now - AUDIT_INTERVAL)
        await sweep(attempt.session, attempt.audit, attempt.now, waited, skip_locked=True)
        await attempt.session.commit()

    async def _report(self, attempt: Attempt, kind: str, count: int, user_id: int | None) -> None:
        record_type, record_id, subject = await self._subject(attempt, kind, user_id)
        if record_type != "User" and not self.budget.take(attempt.now):
            return  # counted in the row; the next event of this key or a sweep writes it
        await attempt.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.kind == kind, LoginThrottle.key == attempt.keys[kind])
            .values(unreported=LoginThrottle.unreported - count, reported_at=attempt.now)
        )
        attempt.audit.write(
            "login.failed",
            record_type,
            record_id,
            changes={**subject, "count": count},
        )

    async def _subject(
        self, attempt: Attempt, kind: str, user_id: int | None
    ) -> tuple[str, int | None, dict[str, Any]]:
        """What an audit event is about: the user for a known account; a fingerprint for an
        unknown one (what was typed may be a password); the address."""
        name = attempt.name
        if kind == ADDRESS:
            return "LoginThrottle", None, {"kind": ADDRESS, "address": attempt.keys[ADDRESS]}
        subject: dict[str, Any] = {"kind": kind, "account": attempt.keys[ACCOUNT][:16]}
        if kind == SOURCE:
            subject["address"] = attempt.keys[ADDRESS]
        if user_id is None and could_be_username(name):
            user_id = await attempt.session.scalar(select(User.id).where(User.username == name))
        if user_id is None:
            return "LoginThrottle", None, subject
        return "User", user_id, {**subject, "username": name}


async def sweep(
    session: AsyncSession, audit: AuditSink, now: datetime, where: ColumnElement[bool], skip_locked: bool = False
) -> None:
    """Write the unreported failures of the rows `where` selects: one `login.failed` event per
    user, one aggregated event per kind for the rest. Rows another transaction holds are left to
    the next sweep when `skip_locked` (a sweep never waits, so it cannot deadlock a login)."""
    chosen = (
        select(LoginThrottle.id, LoginThrottle.kind, LoginThrottle.key, LoginThrottle.user_id, LoginThrottle.unreported)
        .where(where, LoginThrottle.unreported > 0)
        .order_by(LoginThrottle.id)
        .limit(SWEEP_ROWS)
    )
    if skip_locked:
        chosen = chosen.with_for_update(skip_locked=True)
    rows = (await session.execute(chosen)).all()
    if not rows:
        return
    # A decrement, not a reset: failures counted meanwhile by another process stay unreported.
    await session.execute(
        update(THROTTLES)
        .where(THROTTLES.c.id == bindparam("row_id"))
        .values(unreported=THROTTLES.c.unreported - bindparam("count"), reported_at=now),
        [{"row_id": row.id, "count": row.unreported} for row in rows],
    )
    users = [row for row in rows if row.user_id is not None and row.kind == ACCOUNT]
    names: dict[int, str] = {}
    if users:
        query = select(User.id, User.username).where(User.id.in_({row.user_id for row in users}))
        names = {user.id: user.username for user in await session.execute(query)}
    for row in users:
        audit.write(
            "login.failed",
            "User",
            row.user_id,
            changes={
                "kind": ACCOUNT,
                "account": row.key[:16],
                "username": names.get(row.user_id),
                "count": row.unreported,
            },
        )
    others: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if not (row.user_id is not None and row.kind == ACCOUNT):
            others[row.kind].append(row.unreported)
    for kind, counts in sorted(others.items()):
        audit.write(
            "login.failed",
            "LoginThrottle",
            None,
            changes={"kind": kind, "keys": len(counts), "count": sum(counts), "aggregated": True},
        )
