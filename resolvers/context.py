"""The per-request context: one database session, one set of loaders, the caller."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from auth.authenticator import Authenticator
from auth.principal import Principal
from authz.categories import Category
from authz.guard import Denials
from config import AppConfig
from errors import Unauthenticated
from models import AuditEvent
from models.base import utcnow
from models.db import SerialSession
from models.round_trips import SINGLE_STATEMENT
from resolvers.loaders import Loaders
from resolvers.reader import Reader

AUDIT_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
# Read events are plain rows: a Core executemany, built once, without the ORM's bulk machinery.
INSERT_EVENTS = AUDIT_EVENTS.insert()


@dataclass(slots=True)
class Audit:
    """Audit events of this request; reads are flushed once after execution."""

    session: SerialSession
    principal: Principal | None
    pending_reads: list[dict[str, Any]] = field(default_factory=list)
    reads_seen: set[tuple[Any, ...]] = field(default_factory=set)

    def event(
        self,
        action: str,
        record_type: str,
        record_id: int | None,
        *,
        family_id: int | None = None,
        setting_id: int | None = None,
        category: Category | None = None,
        changes: dict[str, Any] | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        return {
            "category": None if category is None else category.name,
            "at": utcnow(),
            "user_id": user_id if self.principal is None else self.principal.user_id,
            "setting_id": setting_id,
            "action": action,
            "record_type": record_type,
            "record_id": record_id,
            "family_id": family_id,
            "changes": changes,
        }

    def write(self, *args: Any, **kwargs: Any) -> None:
        """Add an event to the current (mutation) transaction."""
        self.session.add(AuditEvent(**self.event(*args, **kwargs)))

    def read(self, *args: Any, **kwargs: Any) -> None:
        """Audit a read; a read of one record is audited once per request, whatever the number
        of fields that carried it. A read of a family, carer or child is named `<what>.read`,
        which keeps it out of the record's history (resolvers.loaders)."""
        event = self.event(*args, **kwargs)
        key = tuple(event[name] for name in ("action", "record_type", "record_id", "category"))
        if event["record_id"] is None or key not in self.reads_seen:
            self.reads_seen.add(key)
            self.pending_reads.append(event)

    async def flush_reads(self, commit: bool = True) -> None:
        if self.pending_reads:
            events, self.pending_reads = self.pending_reads, []
            # One executemany for the whole request: a page of 200 families reads hundreds.
            # A query's events, with no transaction open, commit as they are inserted: one round trip.
            options = SINGLE_STATEMENT if commit else {}
            await self.session.execute(INSERT_EVENTS, events, execution_options=options)
            if commit:  # a mutation's events commit with its writes (resolvers/transaction.py)
                await self.session.commit()


@dataclass(slots=True)
class Context:
    session: SerialSession
    reader: Reader
    loaders: Loaders
    config: AppConfig
    authenticator: Authenticator
    principal: Principal | None
    audit: Audit
    request_id: str
    denials: Denials = field(default_factory=Denials)
    # The client's address (the peer, or X-Forwarded-For from a trusted proxy): login throttling.
    client_address: str = "unknown"
    # Why the bearer token sent names no caller (auth.sessions.Refusal); None when none was sent.
    token_refusal: str | None = None

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated("Log in first", **self.refusal_extensions())
        return self.principal

    def refusal_extensions(self) -> dict[str, str]:
        return {} if self.token_refusal is None else {"reason": self.token_refusal}
