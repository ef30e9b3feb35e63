"""Login throttling, with its state in `login_throttles` so every server process shares it.

Each attempt is counted against the account (SHA-256 of the normalised username, whether or not
it exists) and the client address *before* the password is checked, so parallel attempts cannot
race past the limits; a successful login clears the account's count and forgives the address
this one attempt. Past `*_throttle_after` counted attempts in the window, an attempt first waits
(0.25 s doubling to 4 s by default); the `*_lock_after`th failure locks the account or address
for `login_lock_minutes`, doubling with each consecutive lock (capped) until a successful login
or an administrator's unlock. A locked attempt is refused without looking at the password, with
the same answer whether or not the account exists. Failures are audited by `LoginAudit`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from auth.login_attempt import ACCOUNT, ADDRESS, Attempt
from auth.login_audit import LoginAudit
from config import AppConfig
from models import LoginThrottle
from models.base import UtcDateTime, utcnow

THROTTLES = LoginThrottle.__table__


@dataclass(slots=True)
class Counted:
    """A throttle row after this attempt was counted."""

    failures: int
    lockouts: int
    locked: bool  # locked by an attempt that raced this one past the first check


class Throttle:
    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.throttle_after = {ACCOUNT: config.login_throttle_after, ADDRESS: config.login_address_throttle_after}
        self.lock_after = {ACCOUNT: config.login_lock_after, ADDRESS: config.login_address_lock_after}
        self.audit = LoginAudit(config.login_audit_events_per_minute)

    async def admit(self, attempt: Attempt) -> dict[str, Counted] | None:
        """Count the attempt against its account and address before its password is checked.
        None if either is locked, or was locked by attempts that raced this one: it is then a
        failure. The caller commits, so other processes see the attempt at once."""
        locked = await self._locked_kinds(attempt)
        if locked:
            for kind in locked:
                await self.audit.failure(attempt, kind)
            return None
        counted = {kind: await self._count(attempt, kind) for kind in attempt.keys}
        # Attempts that raced past the first check: locked since, or counted beyond the limit.
        over = [kind for kind, row in counted.items() if row.locked or row.failures > self.lock_after[kind]]
        for kind in over:
            await self._lock(attempt, kind, counted[kind])
            await self.audit.failure(attempt, kind)
        return None if over else counted

    def delay(self, counted: dict[str, Counted]) -> float:
        """How long the attempt waits before its password is checked, in seconds."""
        return max(self._delay(row.failures, self.throttle_after[kind]) for kind, row in counted.items())

    async def record_failure(self, attempt: Attempt, counted: dict[str, Counted]) -> None:
        for kind in attempt.keys:
            if counted[kind].failures >= self.lock_after[kind]:
                await self._lock(attempt, kind, counted[kind])
            await self.audit.failure(attempt, kind)

    async def record_success(self, attempt: Attempt) -> None:
        account = (LoginThrottle.kind == ACCOUNT) & (LoginThrottle.key == attempt.keys[ACCOUNT])
        address = (LoginThrottle.kind == ADDRESS) & (LoginThrottle.key == attempt.keys[ADDRESS])
        await self.audit.report_pending(attempt)
        await attempt.session.execute(delete(LoginThrottle).where(account))
        # This attempt was counted against the address before the password was known to be right.
        await attempt.session.execute(
            update(LoginThrottle).where(address, LoginThrottle.failures > 0).values(failures=LoginThrottle.failures - 1)
        )

    async def unlock(self, session: AsyncSession, kind: str, key: str) -> bool:
        """Clear a throttle (its lock, failure count and lock escalation); true if it was locked."""
        row = (LoginThrottle.kind == kind) & (LoginThrottle.key == key)
        was_locked = await session.scalar(
            select(func.count()).select_from(LoginThrottle).where(row, LoginThrottle.locked_until > utcnow())
        )
        await session.execute(delete(LoginThrottle).where(row))
        return bool(was_locked)

    def standing(self, locked_only: bool, limit: int) -> Select[tuple[Any, ...]]:
        """The throttles that hold back the next attempt: locked, or with failures counted in the
        current window. Locks first, then the most recent failure first. A query, for the
        request's reader: root fields of a query read concurrently."""
        now = utcnow()
        locked = LoginThrottle.locked_until.is_not(None) & (LoginThrottle.locked_until > now)
        counting = (LoginThrottle.failures > 0) & (
            LoginThrottle.window_start > now - timedelta(minutes=self.config.login_window_minutes)
        )
        return (
            select(
                LoginThrottle.kind,
                LoginThrottle.key,
                LoginThrottle.failures,
                LoginThrottle.lockouts,
                case((locked, LoginThrottle.locked_until)).label("locked_until"),
                LoginThrottle.last_failure_at,
            )
            .where(locked if locked_only else locked | counting)
            .order_by(case((locked, 0), else_=1), LoginThrottle.last_failure_at.desc(), LoginThrottle.id)
            .limit(limit)
        )

    # --- throttle state -------------------------------------------------------------------

    def _delay(self, failures: int, throttle_after: int) -> float:
        if failures <= throttle_after:
            return 0.0
        config = self.config
        return float(
            min(config.login_delay_seconds * 2 ** (failures - throttle_after - 1), config.login_delay_max_seconds)
        )

    async def _locked_kinds(self, attempt: Attempt) -> list[str]:
        rows = await attempt.session.execute(
            select(THROTTLES.c.kind).where(
                or_(*(and_(THROTTLES.c.kind == kind, THROTTLES.c.key == key) for kind, key in attempt.keys.items())),
                THROTTLES.c.locked_until > attempt.now,
            )
        )
        return sorted(kind for (kind,) in rows.all())

    async def _count(self, attempt: Attempt, kind: str) -> Counted:
        now, session, key = attempt.now, attempt.session, attempt.keys[kind]
        window_over = THROTTLES.c.window_start <= now - timedelta(minutes=self.config.login_window_minutes)
        locked = THROTTLES.c.locked_until.is_not(None) & (THROTTLES.c.locked_until > now)  # never NULL
        stamp = literal(now, UtcDateTime())
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(THROTTLES)
            .values(kind=kind, key=key, failures=1, window_start=now, last_failure_at=now, lockouts=0, unreported=0)
            .on_conflict_do_update(
                index_elements=[THROTTLES.c.kind, THROTTLES.c.key],
                set_={
                    "failures": case((locked, THROTTLES.c.failures), (window_over, 1), else_=THROTTLES.c.failures + 1),
                    "window_start": case((~locked & window_over, stamp), else_=THROTTLES.c.window_start),
                    "last_failure_at": stamp,
                },
            )
            .returning(THROTTLES.c.failures, THROTTLES.c.lockouts, THROTTLES.c.locked_until)
        )
        failures, lockouts, locked_until = (await session.execute(statement)).one()
        if failures == 1 and kind == ACCOUNT:
            await self._purge(session, now)
        return Counted(failures, lockouts, locked_until is not None and locked_until > now)

    async def _purge(self, session: AsyncSession, now: datetime) -> None:
        """Forget quiet, unlocked rows: a spray of made-up usernames cannot grow the table."""
        window = timedelta(minutes=self.config.login_window_minutes)
        longest_lock = timedelta(minutes=self.config.login_lock_max_minutes)
        await session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.last_failure_at <= now - window,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
                or_(LoginThrottle.lockouts == 0, LoginThrottle.last_failure_at <= now - longest_lock),
            )
        )

    async def _lock(self, attempt: Attempt, kind: str, counted: Counted) -> None:
        now = attempt.now
        minutes = min(self.config.login_lock_minutes * 2**counted.lockouts, self.config.login_lock_max_minutes)
        until = now + timedelta(minutes=minutes)
        result = await attempt.session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.kind == kind,
                LoginThrottle.key == attempt.keys[kind],
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
            )
            .values(locked_until=until, lockouts=LoginThrottle.lockouts + 1, failures=0, window_start=now)
            .returning(LoginThrottle.lockouts)
        )
        lockouts = result.scalar_one_or_none()
        if lockouts is not None:
            await self.audit.lockout(attempt, kind, until, lockouts)
