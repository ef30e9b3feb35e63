"""Round trips on PostgreSQL (models/round_trips.py): reads outside a transaction, a transaction
from the first statement that needs one to its end, and a pre-ping that costs no round trip
while the connection is known to be alive."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from models import Setting
from models.db import make_engine, make_sessionmaker
from models.round_trips import SINGLE_STATEMENT, needs_transaction


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite's driver already begins at the first write")
    made = make_engine(database_url)
    yield made
    await made.dispose()


@pytest.fixture
async def observer(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Connections of their own, outside the pool under test."""
    made = make_engine(database_url, poolclass=NullPool)
    yield made
    await made.dispose()


async def state_of(observer: AsyncEngine, pid: int) -> str:
    """The server's view of a backend: 'idle' or 'idle in transaction'."""
    async with observer.connect() as other:
        query = text("SELECT state FROM pg_stat_activity WHERE pid = :pid")
        return str((await other.execute(query, {"pid": pid})).scalar_one())


@pytest.mark.parametrize(
    ("statement", "needed"),
    [
        ("SELECT families.id FROM families WHERE families.id = $1", False),
        ("  select 1", False),
        ("SELECT families.id FROM families WHERE families.id = $1 FOR UPDATE", True),
        ("SELECT families.id FROM families FOR NO KEY UPDATE", True),
        ("SELECT id FROM families FOR SHARE SKIP LOCKED", True),
        ("SELECT pg_advisory_xact_lock($1)", True),
        ("SELECT set_config('x.y', '1', true)", True),
        ("INSERT INTO audit_events (at) VALUES ($1)", True),
        ("UPDATE families SET version = 2", True),
        ("WITH moved AS (DELETE FROM notes RETURNING id) SELECT id FROM moved", True),
    ],
)
def test_only_a_plain_select_runs_outside_a_transaction(statement: str, needed: bool) -> None:
    assert needs_transaction(statement) is needed


async def test_reads_hold_no_transaction_and_a_write_holds_one_to_its_end(
    engine: AsyncEngine, observer: AsyncEngine
) -> None:
    async with AsyncSession(engine) as session:
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await session.execute(select(Setting.id))
        assert await state_of(observer, pid) == "idle"  # no snapshot held between statements

        await session.execute(text("CREATE TEMPORARY TABLE scratch (n int) ON COMMIT DROP"))
        await session.execute(text("INSERT INTO scratch VALUES (1)"))
        assert await state_of(observer, pid) == "idle in transaction"
        # a read after the write stays in the write's transaction: it sees the table
        assert (await session.execute(text("SELECT n FROM scratch"))).scalar_one() == 1
        await session.commit()
        assert await state_of(observer, pid) == "idle"

        await session.execute(select(Setting.id))  # and the next reads are outside again
        assert await state_of(observer, pid) == "idle"


async def test_a_row_lock_lasts_until_the_commit(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as holder, AsyncSession(engine) as other:
        await holder.execute(text("CREATE TABLE IF NOT EXISTS lock_probe (id int PRIMARY KEY)"))
        await holder.execute(text("INSERT INTO lock_probe VALUES (1) ON CONFLICT DO NOTHING"))
        await holder.commit()
        await holder.execute(text("SELECT id FROM lock_probe WHERE id = 1 FOR UPDATE"))
        with pytest.raises(Exception, match="could not obtain lock"):
            await other.execute(text("SELECT id FROM lock_probe WHERE id = 1 FOR UPDATE NOWAIT"))
        await other.rollback()
        await holder.commit()
        assert (await other.execute(text("SELECT id FROM lock_probe WHERE id = 1 FOR UPDATE NOWAIT"))).scalar() == 1
        await other.execute(text("DROP TABLE lock_probe"))
        await other.commit()


async def test_a_single_statement_commits_alone_and_an_open_transaction_keeps_it(
    engine: AsyncEngine, observer: AsyncEngine
) -> None:
    async with AsyncSession(engine) as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS single_probe (n int)"))
        await session.commit()
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await session.execute(text("INSERT INTO single_probe VALUES (1)"), execution_options=SINGLE_STATEMENT)
        assert await state_of(observer, pid) == "idle"  # committed, as it was inserted
        await session.execute(text("INSERT INTO single_probe VALUES (2)"))
        await session.execute(text("INSERT INTO single_probe VALUES (3)"), execution_options=SINGLE_STATEMENT)
        await session.rollback()  # the open transaction took both
        rows = (await session.execute(text("SELECT n FROM single_probe"))).scalars().all()
        assert rows == [1]
        await session.execute(text("DROP TABLE single_probe"))
        await session.commit()


async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    engine: AsyncEngine, observer: AsyncEngine
) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    async with observer.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await other.commit()
    await asyncio.sleep(0.2)  # the server's goodbye reaches the idle pooled connection
    async with sessionmaker() as session:  # no error: the closed connection is not handed out
        assert (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
