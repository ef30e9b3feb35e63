"""in_keys (models/keys.py): the rows of exactly the keys given, however many, on each database;
on PostgreSQL one statement text whatever their number."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Setting
from models.db import make_engine
from models.keys import in_keys

SETTINGS = select(Setting.id, Setting.code).where(in_keys(Setting.code, "codes")).order_by(Setting.code)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = make_engine(database_url)
    async with made.begin() as connection:
        await connection.execute(delete(Setting).where(Setting.code.like("KEYS%")))
        await connection.execute(insert(Setting), [{"code": f"KEYS{n}", "name": f"Keys centre {n}"} for n in range(4)])
    yield made
    async with made.begin() as connection:
        await connection.execute(delete(Setting).where(Setting.code.like("KEYS%")))
    await made.dispose()


@pytest.mark.parametrize("codes", [[], ["KEYS2"], ["KEYS3", "KEYS0", "NOT-A-CODE"], ["KEYS1"] * 3])
async def test_the_rows_of_exactly_the_keys_given(engine: AsyncEngine, codes: list[str]) -> None:
    async with engine.connect() as connection:
        rows = (await connection.execute(SETTINGS, {"codes": codes})).all()
    assert [row.code for row in rows] == sorted(set(codes) - {"NOT-A-CODE"})


async def test_one_statement_text_for_any_number_of_keys(engine: AsyncEngine) -> None:
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    async with engine.connect() as connection:
        for codes in (["KEYS0"], ["KEYS0", "KEYS1", "KEYS2"]):
            await connection.execute(SETTINGS, {"codes": codes})
    if engine.dialect.name == "postgresql":
        assert sent[0] == sent[1] and "= ANY (" in sent[0]
    else:  # SQLite: one parameter a key
        assert sent[0] != sent[1] and " IN (" in sent[0]
