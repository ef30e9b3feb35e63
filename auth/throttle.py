"""Login throttling, with its state in `login_throttles` so every server process shares it.

Each attempt is counted, *before* its password is checked (so parallel attempts cannot race past
the limits), against three keys: its source (the account from this client address), the account
(whatever the address) and the address (whatever the account). The keys of accounts are keyed
MACs of the normalised username, whether or not it names a user (auth/login_key.py).

- The source is the attacker's own: past `login_throttle_after` failures in the window each
  attempt waits (0.25 s doubling to 4 s by default), and the `login_lock_after`th failure locks
  the account *from that address* for `login_lock_minutes`, doubling with each consecutive lock
  up to `login_lock_max_minutes` (1 h by default).
- The account is slowed down, not shut: past the same thresholds its attempts wait, and at the
  `login_lock_after`th failure from all addresses together it is locked, but a locked account
  still admits one attempt from any address with no failure against it in the window, after the
  longest wait. The real user at a fresh address gets in; every address an attacker uses gets
  one guess per window, and then waits for the lock to end.
- The address is throttled and locked on its own thresholds (higher: an office behind one NAT
  shares it), so a spray of many usernames from one address stops too.

A successful login clears its account and source and forgives the address this one attempt. A
refused attempt gets the same answer whether or not the account exists. Failures and lockouts
are audited by `LoginAudit`, aggregated and never dropped.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from auth.login_attempt import ACCOUNT, ADDRESS, KINDS, SOURCE, Attempt, AuditSink
from auth.login_audit import LoginAudit, sweep
from config import AppConfig
from models import LoginThrottle
from models.base import UtcDateTime, utcnow

THROTTLES = LoginThrottle.__table__


@dataclass(slots=True)
class Counted:
    """A throttle row after this attempt was counted."""

    failures: int
    lockouts: int
    locked: bool  # locked now (by an earlier attempt, or one that raced this one)


class Throttle:
    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.throttle_after = {
            SOURCE: config.login_throttle_after,
            ACCOUNT: config.login_throttle_after,
            ADDRESS: config.login_address_throttle_after,
        }
        self.lock_after = {
            SOURCE: config.login_lock_after,
            ACCOUNT: config.login_lock_after,
            ADDRESS: config.login_address_lock_after,
        }
        self.audit = LoginAudit(config.login_audit_events_per_minute)

    async def admit(self, attempt: Attempt) -> dict[str, Counted] | None:
        """Count the attempt against its source, account and address before its password is
        checked. None if it is refused: its source or address is locked, or its account is locked
        and this address has failed against it already (or attempts raced this one past a limit).
        A refused attempt is a failure. The caller commits, so other processes see it at once."""
        await self.audit.sweep_if_due(attempt)
        locked = await self._locked_kinds(attempt)
        if SOURCE in locked or ADDRESS in locked:
            await self._audit_refused(attempt, [kind for kind in locked if kind != SOURCE])
            return None
        counted = {kind: await self._count(attempt, kind) for kind in KINDS}
        # Attempts that raced past the first check: locked since, or counted beyond the limit.
        over = [
            kind for kind in (SOURCE, ADDRESS) if counted[kind].locked or counted[kind].failures > self.lock_after[kind]
        ]
        account = counted[ACCOUNT]
        if not account.locked and account.failures > self.lock_after[ACCOUNT]:
            await self._lock(attempt, ACCOUNT, account)
            account.locked = True
        # A locked account admits only a source with no earlier failure in the window.
        if account.locked and counted[SOURCE].failures > 1:
            over.append(SOURCE)
        if over:
            for kind in over:
                if counted[kind].failures > self.lock_after[kind]:
                    await self._lock(attempt, kind, counted[kind])
            await self._audit_refused(attempt, [ACCOUNT, *(kind for kind in over if kind == ADDRESS)])
            return None
        return counted

    def delay(self, counted: dict[str, Counted]) -> float:
        """How long the attempt waits before its password is checked, in seconds: the longest
        wait when its account is locked (a source with no failures is slowed down, not shut)."""
        if counted[ACCOUNT].locked:
            return float(self.config.login_delay_max_seconds)
        return max(self._delay(row.failures, self.throttle_after[kind]) for kind, row in counted.items())

    async def record_failure(self, attempt: Attempt, counted: dict[str, Counted], user_id: int | None) -> None:
        for kind in KINDS:
            if not counted[kind].locked and counted[kind].failures >= self.lock_after[kind]:
                await self._lock(attempt, kind, counted[kind])
        await self.audit.failure(attempt, ACCOUNT, user_id)
        await self.audit.failure(attempt, ADDRESS)

    async def record_success(self, attempt: Attempt, user_id: int) -> None:
        await self.audit.report_pending(attempt, user_id)
        keys = attempt.keys
        mine = or_(
            (LoginThrottle.kind == ACCOUNT) & (LoginThrottle.key == keys[ACCOUNT]),
            (LoginThrottle.kind == SOURCE) & (LoginThrottle.key == keys[SOURCE]),
        )
        await attempt.session.execute(delete(LoginThrottle).where(mine))
        # This attempt was counted against the address before the password was known to be right.
        address = (LoginThrottle.kind == ADDRESS) & (LoginThrottle.key == keys[ADDRESS])
        await attempt.session.execute(
            update(LoginThrottle).where(address, LoginThrottle.failures > 0).values(failures=LoginThrottle.failures - 1)
        )

    async def unlock(self, session: AsyncSession, audit: AuditSink, kind: str, key: str) -> bool:
        """Clear a throttle (its lock, failure count and lock escalation) and, for an account,
        the throttles of all its sources; true if any was locked. The failures not yet audited
        are written first."""
        now = utcnow()
        rows: ColumnElement[bool] = (LoginThrottle.kind == kind) & (LoginThrottle.key == key)
        if kind == ACCOUNT:
            rows = rows | ((LoginThrottle.kind == SOURCE) & LoginThrottle.key.startswith(key[:32], autoescape=True))
        was_locked = await session.scalar(
            select(func.count()).select_from(LoginThrottle).where(rows, LoginThrottle.locked_until > now)
        )
        await sweep(session, audit, now, rows)
        await session.execute(delete(LoginThrottle).where(rows))
        return bool(was_locked)

    def standing(self, locked_only: bool, limit: int) -> Select[tuple[Any, ...]]:
        """The account and address throttles that hold back the next attempt: locked, or with
        failures counted in the current window. Locks first, then the most recent failure
        first. A query, for the request's reader: root fields of a query read concurrently."""
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
            .where(LoginThrottle.kind.in_([ACCOUNT, ADDRESS]), locked if locked_only else locked | counting)
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

    async def _audit_refused(self, attempt: Attempt, kinds: list[str]) -> None:
        """A refused attempt is a failure of its account (and of its address, if locked)."""
        for kind in dict.fromkeys([ACCOUNT, *kinds]):
            await self.audit.failure(attempt, kind)

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
                    # A locked account still counts its sources; its own count waits for the lock to end.
                    "failures": case(
                        (locked & (THROTTLES.c.kind != SOURCE), THROTTLES.c.failures),
                        (window_over, 1),
                        else_=THROTTLES.c.failures + 1,
                    ),
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
        """Forget quiet, unlocked rows with nothing left to audit: a spray of made-up usernames
        cannot grow the table."""
        window = timedelta(minutes=self.config.login_window_minutes)
        longest_lock = timedelta(minutes=self.config.login_lock_max_minutes)
        await session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.last_failure_at <= now - window,
                LoginThrottle.unreported == 0,
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
