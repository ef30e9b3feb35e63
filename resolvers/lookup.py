"""Drop-down lists (standards 15): every user reads them; the eStart Administrator keeps them."""

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from authz.categories import Action, Category
from authz.scope import require_anywhere
from errors import BadUserInput, NotFound
from models import LookupValue
from resolvers.context import Context
from resolvers.locking import locked
from resolvers.validation import CODE, clean_text, existing_setting


class LookupList(StrEnum):
    ETHNICITY = "ETHNICITY"
    LANGUAGE = "LANGUAGE"
    WARNING = "WARNING"
    HARD_TO_REACH_GROUP = "HARD_TO_REACH_GROUP"
    CUSTOM_INDICATOR = "CUSTOM_INDICATOR"
    RELATIONSHIP = "RELATIONSHIP"
    REFERRAL_REASON = "REFERRAL_REASON"
    EVENT_TYPE = "EVENT_TYPE"
    OUTCOME_TYPE = "OUTCOME_TYPE"
    ACCESS_GROUP = "ACCESS_GROUP"


SUBJECT_KINDS = {"FAMILY", "CARER", "CHILD"}


@dataclass(frozen=True, slots=True)
class LookupValueRecord:
    code: str
    label: str
    active: bool
    applies_to: str | None
    setting_id: int | None


def lookup_record(value: LookupValue) -> LookupValueRecord:
    return LookupValueRecord(value.code, value.label, value.active, value.applies_to, value.setting_id)


async def list_values(ctx: Context, list_name: str, include_inactive: bool) -> list[LookupValueRecord]:
    ctx.require_principal()
    statement = select(LookupValue).where(LookupValue.list_name == list_name)
    if not include_inactive:
        statement = statement.where(LookupValue.active)
    rows = await ctx.reader.rows(statement.order_by(LookupValue.label, LookupValue.code))
    return [lookup_record(row[0]) for row in rows]


async def add_value(
    ctx: Context, list_name: str, code: str, label: str, setting_id: str | None, applies_to: str | None
) -> LookupValueRecord:
    require_anywhere(ctx.require_principal(), Category.LOOKUPS_ADMIN, Action.WRITE)
    code = code.strip().upper()
    if not CODE.fullmatch(code):
        raise BadUserInput("code must be 2 to 30 capital letters, digits or underscores", "code")
    existing = await ctx.session.scalar(
        select(LookupValue.id).where(LookupValue.list_name == list_name, LookupValue.code == code)
    )
    if existing is not None:
        raise BadUserInput(f"{code} is already in the {list_name} list (reactivate it instead)", "code")
    for given, field in ((setting_id, "settingId"), (applies_to, "appliesTo")):
        if given is not None and list_name != LookupList.CUSTOM_INDICATOR:
            raise BadUserInput(f"{field}: only custom indicators are local to a setting or a kind of subject", field)
    setting_key = None if setting_id is None else await existing_setting(ctx.session, setting_id, "settingId")
    value = LookupValue(
        list_name=list_name,
        code=code,
        label=clean_text(label, "label", 200),
        active=True,
        setting_id=setting_key,
        applies_to=applies_to,
    )
    ctx.session.add(value)
    await ctx.session.flush()
    ctx.audit.write(
        "lookup.add", "LookupValue", value.id, category=Category.LOOKUPS_ADMIN,
        changes={"code": {"before": None, "after": code}, "label": {"before": None, "after": value.label}},
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return lookup_record(value)


async def update_value(
    ctx: Context, list_name: str, code: str, label: str | None, active: bool | None
) -> LookupValueRecord:
    require_anywhere(ctx.require_principal(), Category.LOOKUPS_ADMIN, Action.WRITE)
    value = await ctx.session.scalar(
        select(LookupValue).where(LookupValue.list_name == list_name, LookupValue.code == code)
    )
    if value is None:
        raise NotFound(f"{code} is not in the {list_name} list")
    value = await locked(ctx.session, LookupValue, value.id)  # what this write replaces, under its lock
    before = {"label": value.label, "active": value.active}
    if label is not None:
        value.label = clean_text(label, "label", 200)
    if active is not None:
        # Deactivated, never deleted: records that use the code keep their meaning.
        value.active = active
    after = {"label": value.label, "active": value.active}
    ctx.audit.write(
        "lookup.update", "LookupValue", value.id, category=Category.LOOKUPS_ADMIN,
        changes={k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]},
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return lookup_record(value)
