"""Checks mutations make before they write: the category's right in the family's scope."""

from auth.principal import Principal
from authz.categories import Action, Category
from authz.grants import Scope
from errors import Forbidden
from resolvers.context import Context


def require(ctx: Context, category: Category, action: Action, scope: Scope) -> Principal:
    principal = ctx.require_principal()
    if not principal.grants.allows(category, action, scope):
        raise Forbidden(category.name, f"No {action.value} access to {category.name} data here")
    return principal


def require_anywhere(ctx: Context, category: Category, action: Action) -> Principal:
    principal = ctx.require_principal()
    if not principal.grants.allows_anywhere(category, action):
        raise Forbidden(category.name, f"No {action.value} access to {category.name} data")
    return principal


def acting_setting(principal: Principal, category: Category, scope: Scope, registered: int) -> int:
    """The setting a write is recorded against: the registered one when the user may act
    there, else the lowest-numbered setting of the scope where they may."""
    settings = principal.grants.settings_for(category, Action.WRITE)
    if settings is None or registered in settings:
        return registered
    return min(settings & scope)
