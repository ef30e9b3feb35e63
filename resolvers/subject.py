"""What can be set on a family, a carer or a child alike: drop-down codes (warnings, standards
7; hard-to-reach groups, 10; custom indicators, 11) and the general note (7)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from auth.principal import Principal
from authz.categories import Action, Category
from authz.grants import Scope
from errors import BadUserInput, NotFound
from models import Carer, Child, Family, LookupValue, SubjectCode
from resolvers.context import Context
from resolvers.family import family_scope
from resolvers.history import FAMILY_FIELDS, PERSON_FIELDS, record_changes
from resolvers.ids import decode_id
from resolvers.lookup import LookupList
from resolvers.rights import acting_setting, require, require_anywhere
from resolvers.validation import clean_text

SUBJECTS: dict[str, Any] = {"Family": Family, "Carer": Carer, "Child": Child}
SUBJECT_LISTS = {LookupList.WARNING, LookupList.HARD_TO_REACH_GROUP, LookupList.CUSTOM_INDICATOR}


@dataclass(slots=True)
class Subject:
    type_name: str  # Family | Carer | Child
    key: int
    row: Any
    family: Family
    scope: Scope

    def setting_for(self, principal: Principal, category: Category) -> int:
        return acting_setting(principal, category, self.scope, self.family.registered_setting_id)


async def resolve_subject(ctx: Context, subject_id: str, field: str = "subjectId") -> Subject:
    """The family, carer or child an ID names, with its family's scope; NOT_FOUND otherwise."""
    require_anywhere(ctx, Category.PRIMARY, Action.READ)
    decoded = decode_id(subject_id, *SUBJECTS)
    row = None if decoded is None else await ctx.session.get(SUBJECTS[decoded[0]], decoded[1])
    if decoded is None or row is None:
        raise NotFound(f"{field}: no such family, carer or child")
    family = row if decoded[0] == "Family" else await ctx.session.get(Family, row.family_id)
    assert family is not None
    return Subject(decoded[0], decoded[1], row, family, await family_scope(ctx, family))


async def set_codes(ctx: Context, subject_id: str, list_name: LookupList, codes: list[str]) -> list[str]:
    """Replace the codes of one list set on a subject; every code must be active in the list."""
    assert list_name in SUBJECT_LISTS
    subject = await resolve_subject(ctx, subject_id)
    principal = require(ctx, Category.SECONDARY, Action.WRITE, subject.scope)
    wanted = sorted(set(codes))
    values = {
        value.code: value
        for value in await ctx.session.scalars(
            select(LookupValue).where(LookupValue.list_name == list_name, LookupValue.code.in_(wanted))
        )
    }
    for index, code in enumerate(wanted):
        value = values.get(code)
        if value is None or not value.active:
            raise BadUserInput(f"codes[{index}]: {code!r} is not an active code of the {list_name} list", "codes")
        if value.applies_to not in (None, subject.type_name.upper()):
            raise BadUserInput(f"codes[{index}]: {code} applies to a {value.applies_to.lower()}", "codes")
        if value.setting_id is not None and value.setting_id not in subject.scope:
            raise BadUserInput(f"codes[{index}]: {code} is a local indicator of another setting", "codes")
    subject_type = subject.type_name.lower()
    current = sorted(
        await ctx.session.scalars(
            select(SubjectCode.code).where(
                SubjectCode.subject_type == subject_type,
                SubjectCode.subject_id == subject.key,
                SubjectCode.list_name == list_name,
            )
        )
    )
    if current != wanted:
        await ctx.session.execute(
            delete(SubjectCode).where(
                SubjectCode.subject_type == subject_type,
                SubjectCode.subject_id == subject.key,
                SubjectCode.list_name == list_name,
            )
        )
        ctx.session.add_all(
            SubjectCode(
                family_id=subject.family.id,
                subject_type=subject_type,
                subject_id=subject.key,
                list_name=list_name,
                code=code,
            )
            for code in wanted
        )
        ctx.audit.write(
            f"{list_name.lower()}.set", subject.type_name, subject.key,
            family_id=subject.family.id, category=Category.SECONDARY,
            setting_id=subject.setting_for(principal, Category.SECONDARY),
            changes={LIST_FIELDS[list_name]: {"before": ", ".join(current), "after": ", ".join(wanted)}},
        )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return wanted


LIST_FIELDS = {
    LookupList.WARNING: "warnings",
    LookupList.HARD_TO_REACH_GROUP: "hardToReachGroups",
    LookupList.CUSTOM_INDICATOR: "indicators",
}


async def set_general_note(ctx: Context, subject_id: str, text: str | None) -> str | None:
    """The one general note of a family, carer or child, replaced (standards 7): information
    fit for the family's front screen; warnings belong in the warnings list."""
    subject = await resolve_subject(ctx, subject_id)
    principal = require(ctx, Category.SECONDARY, Action.WRITE, subject.scope)
    note = None if text is None else (clean_text(text, "text", 4000, required=False) or None)
    before = subject.row.general_note
    subject.row.general_note = note
    if subject.type_name == "Family":
        subject.row.version += 1
    record_changes(
        ctx, "general_note.set", subject.type_name, subject.key,
        FAMILY_FIELDS if subject.type_name == "Family" else PERSON_FIELDS,
        {"general_note": before}, {"general_note": note},
        family_id=subject.family.id,
        setting_id=subject.setting_for(principal, Category.SECONDARY),
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return note
