"""Affiliations (standards 6): the family's consent to share its record with another setting."""

from datetime import date

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from authz.fields import category_of
from authz.guard import Payload
from authz.scope import load_for_write
from errors import BadUserInput
from models import Affiliation, Family
from models.base import utcnow
from resolvers import contactpoint
from resolvers import validation as v
from resolvers.context import Context
from resolvers.ids import decode_key
from resolvers.records import affiliation_record


async def affiliate(
    ctx: Context, family_id: str, setting_id: str, consent_given_by: str, consent_date: date
) -> Payload:
    # Those who hold the data record the consent; staff outside the scope cannot let themselves in.
    category = category_of("Family", "affiliations")
    target = await load_for_write(
        ctx.session, ctx.require_principal(), Family, decode_key(family_id, "Family"), category,
        "familyId: no such family",
    )  # fmt: skip
    family, scope = target.row, target.scope
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
    contactpoint.touch_family(ctx.session, family.id)  # the settings involved with its children
    ctx.audit.write(
        "affiliation.add",
        "Affiliation",
        affiliation.id,
        category=category,
        family_id=family.id,
        setting_id=target.acting_setting(category),
        changes={
            "after": {
                "setting_id": setting_key,
                "consent_given_by": affiliation.consent_given_by,
                "consent_date": consent_date.isoformat(),
            }
        },
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return Payload(affiliation_record(affiliation), category, target.grants.access_for(target.scope))


async def revoke_affiliation(ctx: Context, affiliation_id: str) -> Payload:
    # Affiliations are secondary data: ones the caller may not read look absent (NOT_FOUND).
    category = category_of("Family", "affiliations")
    target = await load_for_write(
        ctx.session, ctx.require_principal(), Affiliation, decode_key(affiliation_id, "Affiliation"), category
    )
    affiliation, family = target.row, target.family
    if affiliation.revoked_at is not None:
        raise BadUserInput("id: this affiliation is already revoked", "id")
    # Compare and set in one statement: of two requests revoking it at once, one revokes it.
    revoked = await ctx.session.execute(
        update(Affiliation)
        .where(Affiliation.id == affiliation.id, Affiliation.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if revoked.rowcount != 1:  # type: ignore[attr-defined]
        raise BadUserInput("id: this affiliation is already revoked", "id")
    await ctx.session.refresh(affiliation)
    assert affiliation.revoked_at is not None
    ctx.audit.write(
        "affiliation.revoke",
        "Affiliation",
        affiliation.id,
        category=category,
        family_id=family.id,
        setting_id=target.acting_setting(category),
        changes={"before": {"revoked_at": None}, "after": {"revoked_at": affiliation.revoked_at.isoformat()}},
    )
    contactpoint.touch_family(ctx.session, family.id)
    await ctx.session.flush()  # atomic() commits, once the response is built
    return Payload(affiliation_record(affiliation), category, target.grants.access_for(target.scope))
