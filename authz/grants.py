"""What one user may do where: their role assignments folded through the policy.

Grants are computed once per distinct set of assignments and reused by every request of
every user holding the same set, until the policy changes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from authz.categories import FAMILY_CATEGORIES, Action, Category
from authz.enforcer import ALL, HELD, Decisions

Assignment = tuple[str, int | None]  # (role, setting id or None for all settings)
Scope = frozenset[int]  # the settings a family's record is shared with


@dataclass(frozen=True, slots=True)
class Access:
    """The categories the caller may read and write on one family record."""

    read: frozenset[Category]
    write: frozenset[Category]
    # The setting the caller acts from on this record (recorded in audit events of reads):
    # the lowest-numbered setting of the scope where they hold a right; None when their
    # rights on it are authority-wide.
    setting: int | None = None


MEMO_LIMIT = 4096  # distinct scopes remembered per grant set; bounded so memory is too


@dataclass(frozen=True)
class Grants:
    everywhere: frozenset[tuple[Category, Action]]
    in_settings: dict[tuple[Category, Action], frozenset[int]]
    _access_memo: dict[Scope, Access] = field(default_factory=dict, compare=False)

    def allows(self, category: Category, action: Action, scope: Iterable[int]) -> bool:
        key = (category, action)
        if key in self.everywhere:
            return True
        settings = self.in_settings.get(key)
        return settings is not None and not settings.isdisjoint(scope)

    def allows_anywhere(self, category: Category, action: Action) -> bool:
        key = (category, action)
        return key in self.everywhere or key in self.in_settings

    def settings_for(self, category: Category, action: Action) -> frozenset[int] | None:
        """The settings where the right holds; None means every setting."""
        key = (category, action)
        if key in self.everywhere:
            return None
        return self.in_settings.get(key, frozenset())

    def access_for(self, scope: Scope) -> Access:
        """Rights on a family whose record is shared with `scope` (memoized per scope)."""
        access = self._access_memo.get(scope)
        if access is None:
            held = frozenset().union(*self.in_settings.values()) & scope
            access = Access(
                read=frozenset(c for c in FAMILY_CATEGORIES if self.allows(c, Action.READ, scope)),
                write=frozenset(c for c in FAMILY_CATEGORIES if self.allows(c, Action.WRITE, scope)),
                setting=min(held) if held else None,
            )
            if len(self._access_memo) >= MEMO_LIMIT:
                self._access_memo.clear()
            self._access_memo[scope] = access
        return access


class GrantBook:
    """Grants per distinct assignment set, dropped when the policy generation changes."""

    def __init__(self, decisions: Decisions) -> None:
        self.decisions = decisions
        self._memo: dict[frozenset[Assignment], Grants] = {}
        self._generation = decisions.generation

    def grants_for(self, assignments: Iterable[Assignment]) -> Grants:
        if self._generation != self.decisions.generation:
            self._memo.clear()
            self._generation = self.decisions.generation
        key = frozenset(assignments)
        grants = self._memo.get(key)
        if grants is None:
            grants = self._fold(key)
            self._memo[key] = grants
        return grants

    def _fold(self, assignments: frozenset[Assignment]) -> Grants:
        everywhere: set[tuple[Category, Action]] = set()
        in_settings: dict[tuple[Category, Action], set[int]] = {}
        for role, setting_id in assignments:
            for category in Category:
                for action in Action:
                    if self.decisions.allows(role, ALL, category, action):
                        everywhere.add((category, action))
                    elif self.decisions.allows(role, HELD, category, action):
                        if setting_id is None:
                            everywhere.add((category, action))
                        else:
                            in_settings.setdefault((category, action), set()).add(setting_id)
        return Grants(
            everywhere=frozenset(everywhere),
            in_settings={k: frozenset(v) for k, v in in_settings.items() if k not in everywhere},
        )
