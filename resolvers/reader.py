"""Serialized reads on one request's session."""

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncSession


class Reader:
    """Serializes reads on the request's session: data loaders of different relations
    dispatch concurrently, and an AsyncSession allows one operation at a time."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._lock = asyncio.Lock()

    async def rows(self, statement: Executable) -> Sequence[Row[Any]]:
        async with self._lock:
            return (await self.session.execute(statement)).all()
