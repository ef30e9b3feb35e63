"""Casbin, consulted once per (role, reach, category, action) and memoized.

pycasbin scans the policy on every enforce() (measured 65-350 us, more for denials with
domains), so a request never calls it per field: decisions are memoized by every input they
depend on and the memo is dropped when the policy is reloaded.
"""

import logging
from pathlib import Path

import casbin

from authz.categories import Action, Category

HERE = Path(__file__).resolve().parent
MODEL = HERE / "model.conf"
POLICY = HERE / "policy.csv"

HELD = "held"
ALL = "all"


class Decisions:
    """Memoized policy decisions; `enforce_calls` lets tests prove a warm request makes none."""

    def __init__(self, model: Path = MODEL, policy: Path = POLICY) -> None:
        # pycasbin logs every decision at INFO; decisions are not log material.
        logging.getLogger("casbin").setLevel(logging.WARNING)
        self._enforcer = casbin.Enforcer(str(model), str(policy))
        self._memo: dict[tuple[str, str, Category, Action], bool] = {}
        self.enforce_calls = 0
        self.generation = 0

    def allows(self, role: str, reach: str, category: Category, action: Action) -> bool:
        key = (role, reach, category, action)
        decision = self._memo.get(key)
        if decision is None:
            self.enforce_calls += 1
            decision = self._enforcer.enforce(role, reach, category.value, action.value) is True
            self._memo[key] = decision
        return decision

    def reload(self) -> None:
        """Re-read the policy (a watcher calls this when another process changed it)."""
        self._enforcer.load_policy()
        self._memo.clear()
        self.generation += 1
