"""searchPeople: find an existing person before registering a duplicate. Primary data only."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal, or_, select, union_all

from authz.categories import Action, Category
from authz.grants import Access
from authz.scope import access_of, require_anywhere
from models import Carer, Child, Family
from resolvers.batching import with_setting
from resolvers.context import Context
from resolvers.validation import clean_postcode, clean_text

PRIMARY_ONLY = Access(read=frozenset([Category.PRIMARY]), write=frozenset())
LIMIT = 100


@dataclass(slots=True)
class MatchRecord:
    type_name: str
    id: int
    family_id: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    postcode: str | None
    registered_setting_id: int
    access: Access


def _like_prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


async def search_people(ctx: Context, name: str, date_of_birth: date | None, postcode: str | None) -> list[MatchRecord]:
    require_anywhere(ctx.require_principal(), Category.PRIMARY, Action.READ)
    text = " ".join(clean_text(name, "name", 100).split())
    pattern = _like_prefix(text)
    selects = []
    for type_name, model in (("Carer", Carer), ("Child", Child)):
        full_name = func.lower(model.first_name + " " + model.last_name)
        conditions = [
            or_(
                func.lower(model.first_name).like(pattern, escape="\\"),
                func.lower(model.last_name).like(pattern, escape="\\"),
                full_name.like(pattern, escape="\\"),
            )
        ]
        if date_of_birth is not None:
            conditions.append(model.date_of_birth == date_of_birth)
        if postcode is not None:
            conditions.append(Family.postcode == clean_postcode(postcode, "postcode"))
        selects.append(
            select(
                literal(type_name).label("type_name"),
                model.id,
                model.family_id,
                model.first_name,
                model.last_name,
                model.date_of_birth,
                Family.postcode,
                Family.registered_setting_id,
            )
            .join(Family, Family.id == model.family_id)
            .where(*conditions)
        )
    combined = union_all(*selects).subquery()
    rows = await ctx.reader.rows(
        with_setting(select(combined), combined.c.registered_setting_id)
        .order_by(combined.c.last_name, combined.c.first_name, combined.c.type_name, combined.c.id)
        .limit(LIMIT)
    )
    ctx.loaders.prime_settings(rows, "registered_setting_id")
    # Each match is shown only where the policy lets the caller read its primary data: the
    # default policy shares primary data everywhere (then no scope need be read), but an
    # authority may narrow it.
    grants = ctx.require_principal().grants
    if grants.settings_for(Category.PRIMARY, Action.READ) is not None:
        affiliations = await ctx.loaders.affiliations.load_many([row.family_id for row in rows])
        rows = [
            row
            for row, affs in zip(rows, affiliations, strict=True)
            if Category.PRIMARY in access_of(grants, row.registered_setting_id, affs).read
        ]
    return [
        MatchRecord(
            type_name=row.type_name,
            id=row.id,
            family_id=row.family_id,
            first_name=row.first_name,
            last_name=row.last_name,
            date_of_birth=row.date_of_birth,
            postcode=row.postcode,
            registered_setting_id=row.registered_setting_id,
            access=PRIMARY_ONLY,
        )
        for row in rows
    ]
