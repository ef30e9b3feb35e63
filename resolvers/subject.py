"""What can be set on a family, a carer or a child alike: drop-down codes (warnings, standards
7; hard-to-reach groups, 10; custom indicators, 11) and the general note (7)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from authz.categories import Category
from authz.fields import category_of
from authz.scope import Target, load_for_write
from errors import BadUserInput
from models import Carer, Child, Family, LookupValue, SubjectCode
from resolvers.context import Context
from resolvers.history import FAMILY_FIELDS, PERSON_FIELDS, record_changes
from resolvers.ids import decode_id
from resolvers.locking import bump_version, locked
from resolvers.lookup import LookupList
from resolvers.validation import clean_text

SUBJECTS: dict[str, Any] = {"Family": Family, "Carer": Carer, "Child": Child}
# The list each code list is set as: (its API name, in audit events; the record field it is,
# whose declared category the write needs and is audited under).
LIST_FIELDS = {
    LookupList.WARNING: ("warnings", "warnings"),
    LookupList.HARD_TO_REACH_GROUP: ("hardToReachGroups", "hard_to_reach_groups"),
    LookupList.CUSTOM_INDICATOR: ("indicators", "indicators"),
}
GENERAL_NOTE = "general_note"


@dataclass(slots=True)
class Subject:
    type_name: str  # Family | Carer | Child
    key: int
    target: Target[Any]
    category: Category  # of the field written

    @property
    def row(self) -> Any:
        return self.target.row

    @property
    def family(self) -> Family:
        return self.target.family

    def setting_for(self, category: Category) -> int:
        return self.target.acting_setting(category)


async def resolve_subject(ctx: Context, subject_id: str, record_field: str, field: str = "subjectId") -> Subject:
    """The family, carer or child an ID names, for a write of its field `record_field` (a python
    name, "general_note"), which needs the category that field declares (authz.scope.load_for_write)."""
    decoded = decode_id(subject_id, *SUBJECTS)
    type_name, key = ("Family", None) if decoded is None else decoded
    category = category_of(type_name, record_field)
    target = await load_for_write(
        ctx.session, ctx.require_principal(), SUBJECTS[type_name], key, category,
        f"{field}: no such family, carer or child",
    )  # fmt: skip
    return Subject(type_name, target.row.id, target, category)


async def lock_subject(ctx: Context, subject: Subject, expected_version: int | None) -> Any:
    """The subject's row under its write lock, taken before reading what a write replaces; a
    family's version is compared (when expected) and incremented in the same statement."""
    if subject.type_name == "Family":
        await bump_version(ctx.session, subject.key, expected_version)
        await ctx.session.refresh(subject.row)
        return subject.row
    if expected_version is not None:
        raise BadUserInput("expectedVersion: only a family carries a version", "expectedVersion")
    return await locked(ctx.session, SUBJECTS[subject.type_name], subject.key)


async def set_codes(
    ctx: Context, subject_id: str, list_name: LookupList, codes: list[str], expected_version: int | None = None
) -> list[str]:
    """Replace the codes of one list set on a subject; every code must be active in the list."""
    api_name, record_field = LIST_FIELDS[list_name]
    subject = await resolve_subject(ctx, subject_id, record_field)
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
        if value.setting_id is not None and value.setting_id not in subject.target.scope:
            raise BadUserInput(f"codes[{index}]: {code} is a local indicator of another setting", "codes")
    subject_type = subject.type_name.lower()
    await lock_subject(ctx, subject, expected_version)
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
            family_id=subject.family.id, category=subject.category,
            setting_id=subject.setting_for(subject.category),
            changes={api_name: {"before": ", ".join(current), "after": ", ".join(wanted)}},
        )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return wanted


async def set_general_note(
    ctx: Context, subject_id: str, text: str | None, expected_version: int | None = None
) -> str | None:
    """The one general note of a family, carer or child, replaced (standards 7): information
    fit for the family's front screen; warnings belong in the warnings list."""
    subject = await resolve_subject(ctx, subject_id, GENERAL_NOTE)
    note = None if text is None else (clean_text(text, "text", 4000, required=False) or None)
    row = await lock_subject(ctx, subject, expected_version)
    before = row.general_note
    row.general_note = note
    record_changes(
        ctx, "general_note.set", subject.type_name, subject.key,
        FAMILY_FIELDS if subject.type_name == "Family" else PERSON_FIELDS,
        {GENERAL_NOTE: before}, {GENERAL_NOTE: note},
        family_id=subject.family.id,
        setting_id=subject.setting_for(subject.category),
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return note
