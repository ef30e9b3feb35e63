"""Row scope (standards 6, 13): a family's record is shared with the setting it is registered
with and the settings it has consented to be affiliated with. Every family list and every
access decision goes through these two functions."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select

from authz.grants import Access, Scope
from models import Affiliation, Family
from resolvers.context import Context


def scope_of(registered_setting_id: int, affiliations: Iterable[Any]) -> Scope:
    return frozenset([registered_setting_id, *(a.setting_id for a in affiliations if a.revoked_at is None)])


def shared_with(settings: Iterable[int]) -> ColumnElement[bool]:
    """SQL predicate: the family's scope meets `settings`."""
    settings = list(settings)
    return or_(Family.registered_setting_id.in_(settings), affiliated_with(settings))


def affiliated_with(settings: Iterable[int]) -> ColumnElement[bool]:
    """SQL predicate: the family has an unrevoked affiliation to one of `settings`."""
    return exists(
        select(Affiliation.id).where(
            Affiliation.family_id == Family.id,
            Affiliation.revoked_at.is_(None),
            Affiliation.setting_id.in_(list(settings)),
        )
    )


async def access_to(ctx: Context, families: list[Any]) -> list[Access]:
    """The caller's access to each family, from scope read in this request (one batch)."""
    return [access for access, _ in await access_and_affiliations(ctx, families)]


async def access_and_affiliations(ctx: Context, families: list[Any]) -> list[tuple[Access, list[Any]]]:
    """Each family's access and the affiliations (revoked ones too) its scope was read from."""
    principal = ctx.require_principal()
    affiliations = await ctx.loaders.affiliations.load_many([f.id for f in families])
    return [
        (principal.grants.access_for(scope_of(family.registered_setting_id, affs)), affs)
        for family, affs in zip(families, affiliations, strict=True)
    ]
