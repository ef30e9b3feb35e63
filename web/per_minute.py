"""Amounts per key in the current calendar minute, in this process: what the request limits
(web/transport.py) and the cost budget (schema/limits.py) count."""

import time
from collections.abc import Hashable


class PerMinute:
    """A new minute forgets the last, so the keys held are only those seen within one minute."""

    def __init__(self) -> None:
        self.minute = -1
        self.totals: dict[Hashable, int] = {}

    def total(self, key: Hashable) -> int:
        self._turn()
        return self.totals.get(key, 0)

    def add(self, key: Hashable, amount: int = 1) -> int:
        """Add `amount` to the key's total for this minute; the new total."""
        self._turn()
        total = self.totals.get(key, 0) + amount
        self.totals[key] = total
        return total

    @staticmethod
    def seconds_left() -> int:
        return max(1, 60 - int(time.time() % 60))

    def _turn(self) -> None:
        minute = int(time.time() // 60)
        if minute != self.minute:
            self.minute, self.totals = minute, {}
