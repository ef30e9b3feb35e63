"""Casbin, consulted once per (role, reach, category, action) and memoized.

pycasbin scans the policy on every enforce() (measured 65-350 us, more for denials with
domains), so a request never calls it per field: decisions are memoized by every input they
depend on and the memo is dropped when the policy is reloaded.
"""

import hashlib
import logging
from pathlib import Path

import casbin

from authz.categories import Action, Category

HERE = Path(__file__).resolve().parent
MODEL = HERE / "model.conf"
POLICY = HERE / "policy.csv"

HELD = "held"
ALL = "all"

# The version of the rules in force in this process, recorded on every audit event
# (models.audit.AuditEvent.policy_version): set by each Decisions as it loads the policy.
_in_force: str | None = None


def rules_version(model_text: str, rules: list[list[str]]) -> str:
    """The SHA-256 (hex) of the Casbin model's text and the policy rules, one per line as
    "ptype, field, ...": the same rules give the same version, whatever the file's comments."""
    digest = hashlib.sha256(model_text.encode())
    for rule in rules:
        digest.update(b"\n" + ", ".join(rule).encode())
    return digest.hexdigest()


def policy_in_force() -> str:
    """The version of the policy this process decides by (the default files' until a Decisions
    loads one)."""
    global _in_force
    if _in_force is None:
        _in_force = Decisions().version
    return _in_force


class Decisions:
    """Memoized policy decisions; `enforce_calls` lets tests prove a warm request makes none."""

    def __init__(self, model: Path = MODEL, policy: Path = POLICY) -> None:
        # pycasbin logs every decision at INFO; decisions are not log material.
        logging.getLogger("casbin").setLevel(logging.WARNING)
        self._enforcer = casbin.Enforcer(str(model), str(policy))
        self._model_text = model.read_text()
        self._memo: dict[tuple[str, str, Category, Action], bool] = {}
        self.enforce_calls = 0
        self.generation = 0
        self.version = self._version()

    def _version(self) -> str:
        global _in_force
        rules = [["p", *rule] for rule in self._enforcer.get_policy()]
        rules += [["g", *rule] for rule in self._enforcer.get_grouping_policy()]
        _in_force = rules_version(self._model_text, sorted(rules))
        return _in_force

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
        self.version = self._version()
