"""Passwords (argon2id), opaque session tokens stored only as SHA-256, login throttling, and
authentication.

Login throttling (state in `login_throttles`, so every server process shares it). Each attempt
is counted against the account (SHA-256 of the normalised username, whether or not it exists)
and the client address *before* the password is checked, so parallel attempts cannot race past
the limits; a successful login clears the account's count and forgives the address this one
attempt. Past `*_throttle_after` counted attempts in the window, an attempt first waits (0.25 s
doubling to 4 s by default); the `*_lock_after`th failure locks the account or address for
`login_lock_minutes`, doubling with each consecutive lock (capped) until a successful login or
`unlockUser`. A locked attempt is refused without looking at the password, with the same
answer whether or not the account exists.

Audit (flood-proof): the first failure of an account or address is written at once, then at
most one `login.failed` event per account or address per minute, carrying the count since the
previous one (failures in the last minute before an attacker stops are reported with the next
failure or success of that key, or not at all once its row is purged). A lockout is one
`login.lockout` event. Each process also writes at most `login_audit_events_per_minute` such
events a minute; beyond that it counts them and writes one `login.audit_suppressed` event when
the next minute's first event is written. Neither passwords nor tokens reach the audit or logs;
an unknown username appears only as a 16-hex-digit fingerprint.
"""

import asyncio
import hashlib
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from authz.grants import GrantBook
from config import AppConfig
from models import LoginSession, LoginThrottle, RoleAssignment, User
from models.base import UtcDateTime, utcnow
from resolvers.errors import Unauthenticated
from resolvers.principal import Principal

BAD_LOGIN = "Invalid username or password"
LOCKED = "Too many failed attempts; try again later"
ACCOUNT, ADDRESS = "account", "address"
# last_seen_at is written at most this often, so idle expiry costs no write per request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
AUDIT_INTERVAL = timedelta(minutes=1)
UNKNOWN_ADDRESS = "unknown"

THROTTLES = LoginThrottle.__table__


class AuditSink(Protocol):
    def write(self, *args: Any, **kwargs: Any) -> None: ...


def password_hasher(config: AppConfig) -> PasswordHasher:
    return PasswordHasher(
        time_cost=config.argon2_time_cost,
        memory_cost=config.argon2_memory_kib,
        parallelism=config.argon2_parallelism,
        type=Type.ID,
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


def account_key(username: str) -> str:
    """The throttle key of a username: its SHA-256, so a password typed into the username box
    is never stored or audited readable."""
    return hashlib.sha256(normalise_username(username).encode()).hexdigest()


def _password_max() -> int:
    from resolvers.user import PASSWORD_LENGTH  # resolvers.user imports this module

    return PASSWORD_LENGTH[1]


@dataclass(slots=True)
class _Counted:
    """A throttle row after this attempt was counted."""

    failures: int
    lockouts: int
    locked: bool  # locked by an attempt that raced this one past the first check


class _AuditBudget:
    """This process's allowance of login audit events per minute; the overflow is counted."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.minute: datetime | None = None
        self.used = 0
        self.suppressed = 0

    def take(self, now: datetime, audit: AuditSink) -> bool:
        minute = now.replace(second=0, microsecond=0)
        if minute != self.minute:
            self.minute, self.used = minute, 0
        if self.used >= self.per_minute:
            self.suppressed += 1
            return False
        self.used += 1
        if self.suppressed:
            audit.write("login.audit_suppressed", "LoginThrottle", None, changes={"count": self.suppressed})
            self.suppressed = 0
        return True


class Authenticator:
    def __init__(self, config: AppConfig, grant_book: GrantBook) -> None:
        self.config = config
        self.hasher = password_hasher(config)
        self.grant_book = grant_book
        # Verifying against a real hash for unknown users keeps both failures equally slow.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        self.trusted_proxies = tuple(ipaddress.ip_network(proxy, strict=False) for proxy in config.trusted_proxies)
        self.throttle_after = {ACCOUNT: config.login_throttle_after, ADDRESS: config.login_address_throttle_after}
        self.lock_after = {ACCOUNT: config.login_lock_after, ADDRESS: config.login_address_lock_after}
        self.audit_budget = _AuditBudget(config.login_audit_events_per_minute)
        # The throttle's waits; tests replace it to record them instead of sleeping.
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    # --- client address -------------------------------------------------------------------

    def client_address(self, peer: str | None, forwarded_for: str | None) -> str:
        """The peer's address, or, when the peer is a configured trusted proxy, the nearest
        untrusted hop of X-Forwarded-For (read right to left: the left part is the client's)."""
        if peer is None:
            return UNKNOWN_ADDRESS
        if not forwarded_for or not self._trusted(peer):
            return _canonical(peer)
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return _canonical(hop)
        return _canonical(hops[0] if hops else peer)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)

    # --- login ----------------------------------------------------------------------------

    async def login(
        self, session: AsyncSession, username: str, password: str, address: str, audit: AuditSink
    ) -> tuple[str, LoginSession, User]:
        user = await self.authenticate(session, username, password, address, audit)
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        token = secrets.token_urlsafe(32)
        now = utcnow()
        login_session = LoginSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=self.config.session_hours),
        )
        session.add(login_session)
        await session.flush()
        return token, login_session, user

    async def authenticate(
        self, session: AsyncSession, username: str, password: str, address: str, audit: AuditSink
    ) -> User:
        """The active user with this username and password, through the throttle; raises
        Unauthenticated(BAD_LOGIN) or Unauthenticated(LOCKED). Failures are committed before
        raising (the caller rolls back), so they count whatever the caller does next."""
        now = utcnow()
        name = normalise_username(username)
        keys = {ACCOUNT: account_key(name), ADDRESS: address[:64]}
        locked = await self._locked_kinds(session, keys, now)
        if locked:
            for kind in locked:
                await self._note_failure(session, kind, keys[kind], now, audit, name)
            await session.commit()
            raise Unauthenticated(LOCKED)
        counted = {kind: await self._count_attempt(session, kind, key, now) for kind, key in keys.items()}
        # Attempts that raced past the first check: locked since, or counted beyond the limit.
        over = [kind for kind, row in counted.items() if row.locked or row.failures > self.lock_after[kind]]
        if over:
            for kind in over:
                await self._lock(session, kind, keys[kind], counted[kind], now, audit, name)
                await self._note_failure(session, kind, keys[kind], now, audit, name)
            await session.commit()
            raise Unauthenticated(LOCKED)
        await session.commit()  # other processes see this attempt before the password is checked
        delay = max(self._delay(row.failures, self.throttle_after[kind]) for kind, row in counted.items())
        if delay > 0:
            await self.sleep(delay)

        user = await session.scalar(select(User).where(User.username == name)) if len(name) <= 100 else None
        # Too long to be anyone's password: refused before hashing (no long-password DoS).
        verified = len(password) <= _password_max() and self._verify(
            user.password_hash if user else self._dummy_hash, password
        )
        if user is None or not verified or not user.is_active:
            await self._record_failure(session, keys, counted, now, audit, name)
            await session.commit()
            raise Unauthenticated(BAD_LOGIN)
        await self._record_success(session, keys, now, audit, name, user.id)
        return user

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _delay(self, failures: int, throttle_after: int) -> float:
        if failures <= throttle_after:
            return 0.0
        config = self.config
        return float(
            min(config.login_delay_seconds * 2 ** (failures - throttle_after - 1), config.login_delay_max_seconds)
        )

    # --- throttle state -------------------------------------------------------------------

    async def _locked_kinds(self, session: AsyncSession, keys: dict[str, str], now: datetime) -> list[str]:
        rows = await session.execute(
            select(THROTTLES.c.kind).where(
                or_(*(and_(THROTTLES.c.kind == kind, THROTTLES.c.key == key) for kind, key in keys.items())),
                THROTTLES.c.locked_until > now,
            )
        )
        return sorted(kind for (kind,) in rows.all())

    async def _count_attempt(self, session: AsyncSession, kind: str, key: str, now: datetime) -> _Counted:
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
        return _Counted(failures, lockouts, locked_until is not None and locked_until > now)

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

    async def _record_failure(
        self,
        session: AsyncSession,
        keys: dict[str, str],
        counted: dict[str, _Counted],
        now: datetime,
        audit: AuditSink,
        name: str,
    ) -> None:
        for kind, key in keys.items():
            if counted[kind].failures >= self.lock_after[kind]:
                await self._lock(session, kind, key, counted[kind], now, audit, name)
            await self._note_failure(session, kind, key, now, audit, name)

    async def _lock(
        self, session: AsyncSession, kind: str, key: str, counted: _Counted, now: datetime, audit: AuditSink, name: str
    ) -> None:
        minutes = min(self.config.login_lock_minutes * 2**counted.lockouts, self.config.login_lock_max_minutes)
        until = now + timedelta(minutes=minutes)
        result = await session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.kind == kind,
                LoginThrottle.key == key,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
            )
            .values(locked_until=until, lockouts=LoginThrottle.lockouts + 1, failures=0, window_start=now)
            .returning(LoginThrottle.lockouts)
        )
        lockouts = result.scalar_one_or_none()
        if lockouts is not None and self.audit_budget.take(now, audit):
            record_type, record_id, subject = await self._subject(session, kind, key, name)
            audit.write(
                "login.lockout",
                record_type,
                record_id,
                changes={**subject, "until": until.isoformat(), "lockouts": lockouts},
            )

    async def _note_failure(
        self, session: AsyncSession, kind: str, key: str, now: datetime, audit: AuditSink, name: str
    ) -> None:
        """Count one failure for the audit trail; write it (with those not yet written) when
        this key has had no login.failed event for a minute."""
        unreported, reported_at = (
            await session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.kind == kind, LoginThrottle.key == key)
                .values(unreported=LoginThrottle.unreported + 1)
                .returning(LoginThrottle.unreported, LoginThrottle.reported_at)
            )
        ).one()
        if reported_at is None or now - reported_at >= AUDIT_INTERVAL:
            await self._report(session, kind, key, unreported, now, audit, name)

    async def _report(
        self, session: AsyncSession, kind: str, key: str, count: int, now: datetime, audit: AuditSink, name: str
    ) -> None:
        if not self.audit_budget.take(now, audit):
            return
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.kind == kind, LoginThrottle.key == key)
            .values(unreported=LoginThrottle.unreported - count, reported_at=now)
        )
        record_type, record_id, subject = await self._subject(session, kind, key, name)
        audit.write("login.failed", record_type, record_id, changes={**subject, "count": count})

    async def _subject(
        self, session: AsyncSession, kind: str, key: str, name: str
    ) -> tuple[str, int | None, dict[str, Any]]:
        """What an audit event is about: the user for a known account; a fingerprint for an
        unknown one (what was typed may be a password); the address."""
        if kind == ADDRESS:
            return "LoginThrottle", None, {"kind": ADDRESS, "address": key}
        user_id = await session.scalar(select(User.id).where(User.username == name)) if len(name) <= 100 else None
        subject: dict[str, Any] = {"kind": ACCOUNT, "account": key[:16]}
        if user_id is None:
            return "LoginThrottle", None, subject
        return "User", user_id, {**subject, "username": name}

    async def _record_success(
        self, session: AsyncSession, keys: dict[str, str], now: datetime, audit: AuditSink, name: str, user_id: int
    ) -> None:
        account = (THROTTLES.c.kind == ACCOUNT) & (THROTTLES.c.key == keys[ACCOUNT])
        unreported = await session.scalar(select(THROTTLES.c.unreported).where(account))
        if unreported:
            await self._report(session, ACCOUNT, keys[ACCOUNT], unreported, now, audit, name)
        await session.execute(delete(LoginThrottle).where(account))
        # This attempt was counted against the address before the password was known to be right.
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.kind == ADDRESS, LoginThrottle.key == keys[ADDRESS], LoginThrottle.failures > 0)
            .values(failures=LoginThrottle.failures - 1)
        )

    async def unlock_account(self, session: AsyncSession, username: str) -> bool:
        """Clear the account's throttle (its lock, failure count and lock escalation); true if
        it was locked."""
        account = (LoginThrottle.kind == ACCOUNT) & (LoginThrottle.key == account_key(username))
        was_locked = await session.scalar(
            select(func.count()).select_from(LoginThrottle).where(account, LoginThrottle.locked_until > utcnow())
        )
        await session.execute(delete(LoginThrottle).where(account))
        return bool(was_locked)

    # --- sessions -------------------------------------------------------------------------

    async def revoke_sessions(self, session: AsyncSession, user_id: int, keep_session_id: int | None = None) -> int:
        """End every live session of the user (but `keep_session_id`) at once; how many."""
        statement = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        if keep_session_id is not None:
            statement = statement.where(LoginSession.id != keep_session_id)
        result = await session.execute(statement.values(revoked_at=utcnow()))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def principal_for(self, session: AsyncSession, token: str) -> Principal | None:
        """The caller behind a bearer token, or None if it is unknown, expired (absolute or
        idle), revoked, or its user deactivated."""
        now = utcnow()
        row = (
            await session.execute(
                select(LoginSession.id, LoginSession.last_seen_at, User.id, User.username, User.display_name)
                .join(User, User.id == LoginSession.user_id)
                .where(
                    LoginSession.token_hash == token_hash(token),
                    LoginSession.revoked_at.is_(None),
                    LoginSession.expires_at > now,
                    LoginSession.last_seen_at > now - timedelta(minutes=self.config.session_idle_minutes),
                    User.is_active,
                )
            )
        ).first()
        if row is None:
            return None
        session_id, last_seen_at, user_id, username, display_name = row
        if now - last_seen_at >= LAST_SEEN_RESOLUTION:
            await session.execute(
                update(LoginSession)
                .where(LoginSession.id == session_id, LoginSession.last_seen_at <= now - LAST_SEEN_RESOLUTION)
                .values(last_seen_at=now)
            )
            await session.commit()
        assignments = tuple(
            (role, setting_id)
            for role, setting_id in (
                await session.execute(
                    select(RoleAssignment.role, RoleAssignment.setting_id).where(RoleAssignment.user_id == user_id)
                )
            ).all()
        )
        return Principal(
            user_id=user_id,
            username=username,
            display_name=display_name,
            session_id=session_id,
            assignments=assignments,
            grants=self.grant_book.grants_for(assignments),
        )


def _canonical(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address[:64]
