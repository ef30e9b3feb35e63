"""The audit trail of failed logins, flood-proof.

The first failure of an account or address is written at once, then at most one `login.failed`
event per account or address per minute, carrying the count since the previous one (failures in
the last minute before an attacker stops are reported with the next failure or success of that
key, or not at all once its row is purged). A lockout is one `login.lockout` event. Each process
also writes at most `login_audit_events_per_minute` such events a minute; beyond that it counts
them and writes one `login.audit_suppressed` event when the next minute's first event is
written. Neither passwords nor tokens reach the audit or logs; an unknown username appears only
as a 16-hex-digit fingerprint.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from auth.login_attempt import ACCOUNT, ADDRESS, Attempt, AuditSink, could_be_username
from models import LoginThrottle, User

AUDIT_INTERVAL = timedelta(minutes=1)


class AuditBudget:
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


class LoginAudit:
    def __init__(self, per_minute: int) -> None:
        self.budget = AuditBudget(per_minute)

    async def failure(self, attempt: Attempt, kind: str) -> None:
        """Count one failure for the audit trail; write it (with those not yet written) when
        this key has had no login.failed event for a minute."""
        unreported, reported_at = (
            await attempt.session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.kind == kind, LoginThrottle.key == attempt.keys[kind])
                .values(unreported=LoginThrottle.unreported + 1)
                .returning(LoginThrottle.unreported, LoginThrottle.reported_at)
            )
        ).one()
        if reported_at is None or attempt.now - reported_at >= AUDIT_INTERVAL:
            await self._report(attempt, kind, unreported)

    async def lockout(self, attempt: Attempt, kind: str, until: datetime, lockouts: int) -> None:
        if self.budget.take(attempt.now, attempt.audit):
            record_type, record_id, subject = await self._subject(attempt, kind)
            attempt.audit.write(
                "login.lockout",
                record_type,
                record_id,
                changes={**subject, "until": until.isoformat(), "lockouts": lockouts},
            )

    async def report_pending(self, attempt: Attempt) -> None:
        """Write the account's failures not yet written (a success is about to forget them)."""
        unreported = await attempt.session.scalar(
            select(LoginThrottle.unreported).where(
                LoginThrottle.kind == ACCOUNT, LoginThrottle.key == attempt.keys[ACCOUNT]
            )
        )
        if unreported:
            await self._report(attempt, ACCOUNT, unreported)

    async def _report(self, attempt: Attempt, kind: str, count: int) -> None:
        if not self.budget.take(attempt.now, attempt.audit):
            return
        await attempt.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.kind == kind, LoginThrottle.key == attempt.keys[kind])
            .values(unreported=LoginThrottle.unreported - count, reported_at=attempt.now)
        )
        record_type, record_id, subject = await self._subject(attempt, kind)
        attempt.audit.write("login.failed", record_type, record_id, changes={**subject, "count": count})

    async def _subject(self, attempt: Attempt, kind: str) -> tuple[str, int | None, dict[str, Any]]:
        """What an audit event is about: the user for a known account; a fingerprint for an
        unknown one (what was typed may be a password); the address."""
        key, name = attempt.keys[kind], attempt.name
        if kind == ADDRESS:
            return "LoginThrottle", None, {"kind": ADDRESS, "address": key}
        query = select(User.id).where(User.username == name)
        user_id = await attempt.session.scalar(query) if could_be_username(name) else None
        subject: dict[str, Any] = {"kind": ACCOUNT, "account": key[:16]}
        if user_id is None:
            return "LoginThrottle", None, subject
        return "User", user_id, {**subject, "username": name}
