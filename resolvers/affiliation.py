"""Affiliations (standards 6): the family's consent to share its record with another setting."""

from datetime import date

from sqlalchemy.exc import IntegrityError

from authz.categories import Action, Category
from errors import BadUserInput, NotFound
from models import Affiliation, Family
from models.base import utcnow
from resolvers import validation as v
from resolvers.context import Context
from resolvers.family import family_for_write, family_scope
from resolvers.ids import decode_key
from resolvers.rights import acting_setting, require


async def affiliate(
    ctx: Context, family_id: str, setting_id: str, consent_given_by: str, consent_date: date
) -> Affiliation:
    family = await family_for_write(ctx, family_id, "familyId")
    scope = await family_scope(ctx, family)
    # Those who hold the data record the consent; staff outside the scope cannot let themselves in.
    principal = require(ctx, Category.SECONDARY, Action.WRITE, scope)
    setting_key = await v.existing_setting(ctx.session, setting_id, "settingId")
    if setting_key in scope:
        raise BadUserInput("settingId: the family's record is already shared with this setting", "settingId")
    affiliation = Affiliation(
        family_id=family.id,
        setting_id=setting_key,
        consent_given_by=v.clean_text(consent_given_by, "consentGivenBy", 200),
        consent_date=v.past_date(consent_date, "consentDate", v.today()),
        created_at=utcnow(),
    )
    ctx.session.add(affiliation)
    try:
        await ctx.session.flush()
    except IntegrityError:  # another request affiliated the family there since the check above
        raise BadUserInput("settingId: the family's record is already shared with this setting", "settingId") from None
    ctx.audit.write(
        "affiliation.add",
        "Affiliation",
        affiliation.id,
        category=Category.SECONDARY,
        family_id=family.id,
        setting_id=acting_setting(principal, Category.SECONDARY, scope, family.registered_setting_id),
        changes={
            "after": {
                "setting_id": setting_key,
                "consent_given_by": affiliation.consent_given_by,
                "consent_date": consent_date.isoformat(),
            }
        },
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return affiliation


async def revoke_affiliation(ctx: Context, affiliation_id: str) -> Affiliation:
    key = decode_key(affiliation_id, "Affiliation")
    affiliation = None if key is None else await ctx.session.get(Affiliation, key)
    if affiliation is None:
        raise NotFound()
    family = await ctx.session.get(Family, affiliation.family_id)
    assert family is not None
    scope = await family_scope(ctx, family)
    principal = ctx.require_principal()
    if not principal.grants.allows(Category.SECONDARY, Action.READ, scope):
        raise NotFound()  # affiliations are secondary data: unseen ones look absent
    require(ctx, Category.SECONDARY, Action.WRITE, scope)
    if affiliation.revoked_at is not None:
        raise BadUserInput("id: this affiliation is already revoked", "id")
    affiliation.revoked_at = utcnow()
    ctx.audit.write(
        "affiliation.revoke",
        "Affiliation",
        affiliation.id,
        category=Category.SECONDARY,
        family_id=family.id,
        setting_id=acting_setting(principal, Category.SECONDARY, scope, family.registered_setting_id),
        changes={"before": {"revoked_at": None}, "after": {"revoked_at": affiliation.revoked_at.isoformat()}},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return affiliation
