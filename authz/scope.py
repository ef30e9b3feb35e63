"""Row scope and reach (standards 6, 13): which families a caller lists, what they may do on
one family, and the checks every mutation makes before it writes.

A family's record is shared with its *scope*: the setting it is registered with and every
setting it is affiliated to with consent not revoked. The caller's grants (grants.py: their
role assignments folded through the policy) say in which settings each category's right holds;
a right on a family holds when those settings meet its scope. Reach is always read from the
grants, never from the shape of the role assignments: a role held in every setting widens only
the categories the policy gives that role.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from authz.categories import Action, Category
from authz.grants import Access, Grants, Scope
from errors import Forbidden, NotFound
from models import Affiliation, Carer, Child, ChildProtectionPlan, Family


def scope_of(registered_setting_id: int, affiliations: Iterable[Any]) -> Scope:
    """The settings a family's record is shared with; `affiliations` may include revoked ones."""
    return frozenset([registered_setting_id, *(a.setting_id for a in affiliations if a.revoked_at is None)])


def access_of(grants: Grants, registered_setting_id: int, affiliations: Iterable[Any]) -> Access:
    """The caller's rights on one family, from its registration and affiliations."""
    return grants.access_for(scope_of(registered_setting_id, affiliations))


async def family_scope(session: AsyncSession, family: Family) -> Scope:
    """A family's scope read now, in the caller's transaction (one statement)."""
    affiliations = await session.scalars(select(Affiliation).where(Affiliation.family_id == family.id))
    return scope_of(family.registered_setting_id, affiliations)


# SQL -------------------------------------------------------------------------------------------


def shared_with(settings: Iterable[int]) -> ColumnElement[bool]:
    """SQL predicate on families: the family's scope meets `settings`."""
    settings = list(settings)
    return or_(Family.registered_setting_id.in_(settings), affiliated_with(settings))


def affiliated_with(settings: Iterable[int]) -> ColumnElement[bool]:
    """SQL predicate on families: the family has an unrevoked affiliation to one of `settings`."""
    return exists(
        select(Affiliation.id).where(
            Affiliation.family_id == Family.id,
            Affiliation.revoked_at.is_(None),
            Affiliation.setting_id.in_(list(settings)),
        )
    )


# The category whose reach decides which families a caller lists: their record beyond the
# primary data the policy shares everywhere. Affiliations are secondary data too.
LIST_CATEGORY = Category.SECONDARY


def list_reach(grants: Grants) -> frozenset[int] | None:
    """The settings whose families the caller lists by default; None means every setting."""
    return grants.settings_for(LIST_CATEGORY, Action.READ)


def listed(grants: Grants, setting: int | None = None) -> ColumnElement[bool] | None:
    """SQL predicate on families: those the caller lists, of `setting` or (None) of their
    reach. Returns None when there is no condition (every family).

    Of a setting: families registered there, and those affiliated to it, but the latter only
    where the caller may read the family's secondary data, or the list would reveal the
    affiliation to someone who may not see it."""
    readable = list_reach(grants)
    if setting is None:
        return None if readable is None else shared_with(readable)
    if readable is None:
        return shared_with([setting])
    return or_(
        Family.registered_setting_id == setting,
        and_(affiliated_with([setting]), shared_with(readable)),
    )


# Rights a mutation checks ----------------------------------------------------------------------


class Caller(Protocol):
    """Anyone holding grants (auth.principal.Principal)."""

    @property
    def grants(self) -> Grants: ...


C = TypeVar("C", bound=Caller)


def require(caller: C, category: Category, action: Action, scope: Iterable[int]) -> C:
    """FORBIDDEN unless the caller holds the right in a setting of `scope`."""
    if not caller.grants.allows(category, action, scope):
        raise Forbidden(category.name, f"No {action.value} access to {category.name} data here")
    return caller


def require_anywhere(caller: C, category: Category, action: Action) -> C:
    """FORBIDDEN unless the caller holds the right in some setting."""
    if not caller.grants.allows_anywhere(category, action):
        raise Forbidden(category.name, f"No {action.value} access to {category.name} data")
    return caller


def acting_setting(grants: Grants, category: Category, scope: Scope, registered: int) -> int:
    """The setting a write is recorded against: the registered one when the caller may act
    there, else the lowest-numbered setting of the scope where they may."""
    settings = grants.settings_for(category, Action.WRITE)
    if settings is None or registered in settings:
        return registered
    return min(settings & scope)


R = TypeVar("R", Family, Carer, Child, Affiliation, ChildProtectionPlan)


@dataclass(frozen=True, slots=True)
class Kind:
    """How a kind of record reached by a write is looked up.

    gate: a caller with no read right to this category in any setting gets FORBIDDEN before
    the lookup, so learns nothing, not even whether the id exists (None: no gate).
    hidden: the record is itself data of this category, so one the caller may not read in
    its family's scope looks absent (NOT_FOUND), like an id that does not exist."""

    gate: Category | None
    hidden: Category | None = None


KINDS: dict[type[Any], Kind] = {
    Family: Kind(gate=Category.PRIMARY),
    Carer: Kind(gate=Category.PRIMARY),
    Child: Kind(gate=Category.PRIMARY),
    ChildProtectionPlan: Kind(gate=Category.PRIMARY, hidden=Category.CP_PLAN),
    # Callers who may read no secondary data get NOT_FOUND for every id: they learn nothing.
    Affiliation: Kind(gate=None, hidden=Category.SECONDARY),
}


@dataclass(frozen=True, slots=True)
class Target(Generic[R]):
    """A record a mutation may write: the row, its family and the family's scope."""

    row: R
    family: Family
    scope: Scope
    grants: Grants

    def acting_setting(self, category: Category) -> int:
        return acting_setting(self.grants, category, self.scope, self.family.registered_setting_id)


async def load_for_write(
    session: AsyncSession,
    caller: Caller,
    kind: type[R],
    key: int | None,
    categories: Category | Collection[Category],
    missing: str = "Not found",
) -> Target[R]:
    """The record `kind` `key` (None: an id that did not decode) for a write of `categories`,
    the one sequence every mutation on a family record goes through: gate (FORBIDDEN), load
    (NOT_FOUND with `missing`), the family and its scope, hidden (NOT_FOUND), then the write
    right of each category in the scope (FORBIDDEN)."""
    rule = KINDS[kind]
    grants = caller.grants
    if rule.gate is not None:
        require_anywhere(caller, rule.gate, Action.READ)
    row = None if key is None else await session.get(kind, key)
    if row is None:
        raise NotFound(missing)
    family = await _family_of(session, row)
    scope = await family_scope(session, family)
    if rule.hidden is not None and not grants.allows(rule.hidden, Action.READ, scope):
        raise NotFound(missing)
    for category in [categories] if isinstance(categories, Category) else categories:
        require(caller, category, Action.WRITE, scope)
    return Target(row, family, scope, grants)


async def _family_of(session: AsyncSession, row: Family | Carer | Child | Affiliation | ChildProtectionPlan) -> Family:
    if isinstance(row, Family):
        return row
    if isinstance(row, ChildProtectionPlan):
        family = await session.scalar(
            select(Family).join(Child, Child.family_id == Family.id).where(Child.id == row.child_id)
        )
    else:
        family = await session.get(Family, row.family_id)
    assert family is not None  # foreign keys
    return family
