"""The transaction of a request, and idempotency keys.

A mutation's resolver flushes its writes and builds its record; the commit comes once the whole
response is built (`finish`, called by the view), so an error while building it means nothing
was written, and an acknowledged write is one whose answer the client was sent. A document with
several mutation fields commits each field's writes when the next field starts (GraphQL runs
them one after the other), so a refused field does not undo the ones before it.

An `Idempotency-Key` header (1 to 100 characters, per user) claims the key inside the
mutation's transaction and stores the response JSON before the commit: the write and its
remembered answer land together or not at all. A repeat within 24 hours with the same request
gets the stored response and runs nothing. A concurrent duplicate waits for the first (the
database holds its claim of the key until the first commits) and then gets the first's response;
if the first rolled back, the duplicate runs as if it were first. A refused or failed mutation
is not remembered (nothing was written): a repeat runs again. Keys of unauthenticated requests
are ignored, and so is a login's (`without_key`): a retried login is a new login.

A secret the answer hands out (the one-time password an approval issues, a login's session
token) is marked by `secret` and never stored: the stored response has null in its place and
`extensions.withheld` lists where ("approveUserRequest.oneTimePassword"). A retry after a lost
answer so learns the outcome (applied, and its other fields), not the secret; the client acts on
it (a new password-reset request, a new login) rather than by running the mutation twice.

One failure leaves the outcome unknown: the connection breaking during COMMIT. The answer is then
UNAVAILABLE with `"outcome": "UNKNOWN"`; a retry with the same Idempotency-Key tells which (the
stored first response if it was applied, else the mutation runs now).
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from errors import BadUserInput, Code, Conflict, ServiceError
from models import IdempotencyKey
from models.base import utcnow
from models.db import CommitUncertain, DatabaseUnavailable, unavailable
from resolvers.context import Context

logger = logging.getLogger("estart.transaction")

KEY_HOURS = 24
MAX_KEY_LENGTH = 100
PENDING = "estart_pending_writes"  # session.info: this request flushed writes not yet committed
CLAIM = "estart_idempotency_claim"
RETRY_LOOKUP = "estart_idempotency_retry_lookup"
SECRETS = "estart_secrets"  # session.info: secrets this request's answer carries, never stored
FAILED = {Code.INTERNAL.value, Code.TIMEOUT.value}


@dataclass(slots=True)
class Claim:
    user_id: int
    key: str
    request_hash: str
    row_id: int | None = None
    committed: bool = False


def request_hash(query: str, variables: dict[str, Any] | None, operation_name: str | None) -> str:
    body = orjson.dumps([query, variables or {}, operation_name], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


async def prepare_key(ctx: Context, key: str, fingerprint: str) -> dict[str, Any] | None:
    """Before execution: the stored response of an earlier request with this key, or None (the
    request runs, and claims the key at its first write)."""
    if ctx.principal is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadUserInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters", field="Idempotency-Key")
    fingerprint = (await ctx.authenticator.login_key.ready(ctx.session)).request(fingerprint)
    stored = await _stored(ctx.session, ctx.principal.user_id, key, fingerprint)
    if stored is None:
        ctx.session.info[CLAIM] = Claim(ctx.principal.user_id, key, fingerprint)
    return stored


async def _stored(session: AsyncSession, user_id: int, key: str, fingerprint: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(IdempotencyKey.request_hash, IdempotencyKey.response).where(
                IdempotencyKey.user_id == user_id,
                IdempotencyKey.key == key,
                IdempotencyKey.created_at >= utcnow() - timedelta(hours=KEY_HOURS),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise BadUserInput("This Idempotency-Key was used for a different request", field="Idempotency-Key")
    if row.response is None:
        raise Conflict("A request with this Idempotency-Key is still being processed; try again shortly")
    stored: dict[str, Any] = orjson.loads(row.response)
    return stored


async def before_write(ctx: Context) -> None:
    """At the start of each mutation field: commit the previous field's writes (its response is
    built), then claim the idempotency key if there is one and it is not claimed yet."""
    session = ctx.session
    claim: Claim | None = session.info.get(CLAIM)
    if session.info.pop(PENDING, False):
        await session.commit()
        if claim is not None and claim.row_id is not None:
            claim.committed = True
    if claim is None or claim.row_id is not None:
        return
    await session.execute(  # a key older than 24 hours may be used again
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == claim.user_id,
            IdempotencyKey.key == claim.key,
            IdempotencyKey.created_at < utcnow() - timedelta(hours=KEY_HOURS),
        )
    )
    row = IdempotencyKey(user_id=claim.user_id, key=claim.key, request_hash=claim.request_hash, created_at=utcnow())
    session.add(row)
    try:
        await session.flush()  # waits while a concurrent request holding the key is uncommitted
    except IntegrityError:
        await session.rollback()
        session.info[RETRY_LOOKUP] = True
        raise Conflict("A request with this Idempotency-Key is still being processed; try again shortly") from None
    claim.row_id = row.id


def without_key(ctx: Context) -> None:
    """This mutation is not remembered under the request's Idempotency-Key, unless an earlier
    mutation field of the same document claimed it already."""
    claim: Claim | None = ctx.session.info.get(CLAIM)
    if claim is not None and claim.row_id is None:
        del ctx.session.info[CLAIM]


def secret(ctx: Context, value: str) -> str:
    """`value`, marked as a secret of this answer: withheld from the response stored with an
    Idempotency-Key (the module's docstring)."""
    ctx.session.info.setdefault(SECRETS, set()).add(value)
    return value


def withheld(response: dict[str, Any], secrets: set[str]) -> dict[str, Any]:
    """`response` with every string in `secrets` nulled, and `extensions.withheld` naming where."""
    paths: list[str] = []

    def scrub(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, str) and value in secrets:
            paths.append(".".join(path))
            return None
        if isinstance(value, dict):
            return {name: scrub(item, (*path, name)) for name, item in value.items()}
        if isinstance(value, list):
            return [scrub(item, (*path, str(index))) for index, item in enumerate(value)]
        return value

    scrubbed: dict[str, Any] = scrub(response, ())
    if paths:
        where = [path.removeprefix("data.") for path in paths]
        scrubbed["extensions"] = {**(response.get("extensions") or {}), "withheld": where}
    return scrubbed


def wrote(ctx: Context) -> None:
    ctx.session.info[PENDING] = True


async def abandon(ctx: Context) -> None:
    ctx.session.info.pop(PENDING, None)
    await ctx.session.rollback()


_last_prune = 0.0


async def finish(session: AsyncSession, response: dict[str, Any]) -> dict[str, Any]:
    """After execution, with the response built: an UNAVAILABLE error anywhere makes the whole
    answer UNAVAILABLE (raised as DatabaseUnavailable: HTTP 503, nothing written); pending writes
    are rolled back if building the response failed, else committed with the stored response."""
    global _last_prune
    info = session.info
    codes = {(error.get("extensions") or {}).get("code") for error in response.get("errors") or ()}
    if Code.UNAVAILABLE.value in codes:
        info.pop(PENDING, None)
        await _rollback_quietly(session)
        raise DatabaseUnavailable("a database call failed while the request ran")
    claim: Claim | None = info.get(CLAIM)
    if info.pop(RETRY_LOOKUP, False) and claim is not None:
        await session.rollback()
        try:  # a concurrent duplicate: the first committed meanwhile, or rolled back
            return await _stored(session, claim.user_id, claim.key, claim.request_hash) or response
        except ServiceError:
            return response
    pending = info.pop(PENDING, False)
    if pending and codes & FAILED:
        await session.rollback()
        return {"data": None, "errors": response["errors"]}
    if claim is not None and claim.row_id is not None and (pending or claim.committed):
        text = orjson.dumps(withheld(response, info.pop(SECRETS, set()))).decode()
        await session.execute(update(IdempotencyKey).where(IdempotencyKey.id == claim.row_id).values(response=text))
        pending = True
    if pending:
        try:
            await session.commit()
        except Exception as exc:
            if unavailable(exc):  # the connection broke during COMMIT: applied or not, nobody knows
                raise CommitUncertain("the commit was not confirmed") from exc
            raise
        if claim is not None and time.monotonic() - _last_prune > 60:
            _last_prune = time.monotonic()
            await _prune(session)
    return response


async def _prune(session: AsyncSession) -> None:
    """Forget keys older than 24 hours (their responses hold personal data)."""
    try:
        await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - timedelta(hours=KEY_HOURS))
        )
        await session.commit()
    except Exception:  # the answer is committed and sent regardless; the next prune retries
        logger.warning("pruning idempotency keys failed", exc_info=True)
        await _rollback_quietly(session)


async def _rollback_quietly(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception:  # the connection is gone: closing the session discards it
        logger.debug("rollback failed", exc_info=True)
