"""Families: reading one or a page, registering, updating."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update

from authz.categories import Action, Category
from authz.fields import category_of
from authz.guard import Payload, allows
from authz.scope import listed, load_for_write, require, require_anywhere
from errors import BadUserInput, NotFound
from models import Carer, CarerChild, Child, Family, Form
from models.base import utcnow
from resolvers import contactpoint, household
from resolvers import validation as v
from resolvers.batching import loaded, with_setting
from resolvers.context import Context
from resolvers.form import form_payload, log_change_entered, mark_entered, outstanding_form
from resolvers.history import FAMILY_FIELDS, PERSON_FIELDS, record_changes, written_categories
from resolvers.household import AFFILIATION, FAMILY
from resolvers.ids import decode_key, encode_id
from resolvers.inputs import AddressData, FamilyChanges, NewFamily, PersonData, ReferralData
from resolvers.locking import bump_version
from resolvers.records import FamilyRecord, PersonRecord, family_records, maker_of, note_record
from resolvers.working_days import Deadline

# A household's people in one registration; more is a mistake or an attack, never a family.
MAX_CARERS, MAX_CHILDREN = 10, 20
PERSON_TYPE = {"carers": "Carer", "children": "Child"}
PEOPLE = {"carer": "carers", "child": "children"}  # a family's relations holding its people, by subject type


@dataclass(slots=True)
class FamilyPage:
    nodes: list[FamilyRecord]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


async def as_records(ctx: Context, rows: list[Any]) -> list[FamilyRecord]:
    return family_records(rows, await ctx.loaders.family_access(ctx.require_principal().grants, rows))


# The notes a page of families may ask for: field -> (kind, the category the field is guarded by)
NOTE_FIELDS = {"notes": ("HISTORY", Category.SECONDARY), "confidentialNotes": ("CONFIDENTIAL", Category.CONFIDENTIAL)}


def asks_notes(relations: Collection[str], name: str, subject_type: str) -> bool:
    """Whether the query asks for the notes field `name` of subjects of `subject_type`."""
    return (name if subject_type == "family" else f"{PEOPLE[subject_type]}.{name}") in relations


# the parts of a household (resolvers/household.py) a query's fields ask for
HOUSEHOLD_PARTS = {
    "carers": household.CARER,
    "children": household.CHILD,
    "carers.relationships": household.RELATIONSHIP,
    "children.childProtectionPlan": household.PLAN,
}


async def read_relations(
    ctx: Context, family_ids: list[int], relations: Collection[str], parts: frozenset[str] = frozenset()
) -> dict[type, list[list[Any]]]:
    """Read `parts` of the families' households, and their carers and children (those of
    `relations`) with their relationships, open plans and notes and the families' notes when
    asked for, in one statement (resolvers/household.py), so the fields resolve without an
    awaitable per family. The guard still decides every field."""
    parts |= frozenset(part for name, part in HOUSEHOLD_PARTS.items() if name in relations)
    notes = [
        (subject_type, kind)
        for name, (kind, _) in NOTE_FIELDS.items()
        for subject_type in ("family", *PEOPLE)
        if asks_notes(relations, name, subject_type)
    ]
    if not parts and not notes:
        return {}
    return await ctx.loaders.read_household(parts, family_ids, notes)


def set_people(records: list[FamilyRecord], read: dict[type, list[list[Any]]]) -> None:
    """The families' carers and children of `read` (read_relations), on their records."""
    for relation, model in (("carers", Carer), ("children", Child)):
        if model in read:
            make = maker_of(model.__name__, read[model])
            for record, rows in zip(records, read[model], strict=True):
                setattr(record, relation, [make(row, record.access) for row in rows])


async def preload(ctx: Context, records: list[FamilyRecord], relations: Collection[str]) -> None:
    """A page's relations (read_relations), on its records."""
    set_people(records, await read_relations(ctx, [record.id for record in records], relations))


async def preload_notes(ctx: Context, records: list[FamilyRecord], relations: Collection[str]) -> None:
    """Set the notes a page asks for (`relations`: notes, carers.notes, …) on the families and
    people whose guard shows them, so the fields resolve without an awaitable per record: from
    the notes loader, which `preload` primed with them (no statement of its own)."""
    asked = [
        (subject_type, kind, category)
        for name, (kind, category) in NOTE_FIELDS.items()
        for subject_type in ("family", *PEOPLE)
        if asks_notes(relations, name, subject_type)
    ]
    if not asked:  # a page without notes: its thousands of people are not gone through
        return
    subjects: dict[str, list[FamilyRecord] | list[PersonRecord]] = {"family": records}
    for relation, subject_type in (("carers", "carer"), ("children", "child")):
        subjects[subject_type] = [person for record in records for person in getattr(record, relation) or ()]
    keys = [
        (subject_type, subject, kind)
        for subject_type, kind, category in asked
        for subject in subjects[subject_type]
        if allows(category, subject)
    ]
    if not keys:
        return
    read = await loaded([ctx.loaders.notes.load((subject_type, s.id, kind)) for subject_type, s, kind in keys])
    for (_, subject, kind), rows in zip(keys, read, strict=True):
        if subject.notes is None:
            subject.notes = {}
        subject.notes[kind] = [note_record(row) for row in rows]


async def get_family(ctx: Context, family_id: str, relations: Collection[str] = ()) -> FamilyRecord:
    """One family; `relations` names the fields the query asks of it and of its people
    (carers.notes): the family, its affiliations (its scope) and what `relations` asks of its
    people and notes are read in one statement (read_relations) before the fields resolve."""
    # Callers with no right to family data learn nothing, not even whether the id exists.
    require_anywhere(ctx.require_principal(), Category.PRIMARY, Action.READ)
    key = decode_key(family_id, "Family")
    read = {} if key is None else await read_relations(ctx, [key], relations, frozenset({FAMILY, AFFILIATION}))
    rows = read[Family][0] if read else []
    if not rows:
        raise NotFound()
    records = await as_records(ctx, rows)
    set_people(records, read)
    await preload_notes(ctx, records, relations)
    return records[0]


async def list_families(
    ctx: Context, setting_id: str | None, first: int, after: str | None, relations: Collection[str] = ()
) -> FamilyPage:
    """A page of families; `relations` names the nodes' relations the query asks for."""
    principal = require_anywhere(ctx.require_principal(), Category.PRIMARY, Action.READ)
    if not 1 <= first <= ctx.config.max_page_size:
        raise BadUserInput(f"first must be between 1 and {ctx.config.max_page_size}", "first")
    setting = None if setting_id is None else decode_key(setting_id, "Setting")
    if setting_id is not None and setting is None:
        raise BadUserInput("settingId: no such setting", "settingId")
    reach = listed(principal.grants, setting)
    conditions = [] if reach is None else [reach]
    # The count of the whole list rides along with the page, as a subquery run once.
    total = select(func.count()).select_from(Family).where(*conditions).correlate(None).scalar_subquery()
    if after is not None:
        position = decode_key(after, "Cursor")
        if position is None:
            raise BadUserInput("after is not a cursor of this list", "after")
        conditions.append(Family.id > position)
    statement = with_setting(select(Family.__table__, total.label("total_count")), Family.registered_setting_id)
    families = list(await ctx.reader.rows(statement.where(*conditions).order_by(Family.id).limit(first + 1)))
    if not families:  # past the end: no row to carry the count
        families_total = (await ctx.reader.rows(select(total)))[0][0]
    else:
        families_total = families[0].total_count
        ctx.loaders.prime_settings(families, "registered_setting_id")
    nodes = await as_records(ctx, families[:first])
    await preload(ctx, nodes, relations)
    await preload_notes(ctx, nodes, relations)
    return FamilyPage(
        nodes=nodes,
        has_next_page=len(families) > first,
        end_cursor=encode_id("Cursor", nodes[-1].id) if nodes else None,
        total_count=families_total,
    )


async def register_family(ctx: Context, data: NewFamily) -> FamilyRecord:
    today = v.today()
    setting_key = await v.existing_setting(ctx.session, data["setting_id"], "settingId")
    scope = frozenset([setting_key])
    principal = require(ctx.require_principal(), Category.PRIMARY, Action.WRITE, scope)
    for group, members, most in (("carers", data["carers"], MAX_CARERS), ("children", data["children"], MAX_CHILDREN)):
        if len(members) > most:
            raise BadUserInput(f"{group}: at most {most} in one registration", group)
    people: list[tuple[str, PersonData]] = [("carers", p) for p in data["carers"]]
    people += [("children", p) for p in data["children"]]
    referral = data.get("referral") or (data["source"] == Deadline.REFERRAL and data.get("form_id")) or None
    given: dict[str, object] = {"general_note": data["general_note"], "referral": referral}
    written = set(written_categories("Family", FAMILY_FIELDS, given))  # each as its field declares it
    for group, p in people:
        given = {column: value for column, value in p.items() if column in PERSON_FIELDS}
        written.update(written_categories(PERSON_TYPE[group], PERSON_FIELDS, given))
    for category in sorted(written, key=list(Category).index):
        require(principal, category, Action.WRITE, scope)
    kind = Deadline(data["source"])
    form = await registration_form(ctx, data, kind, setting_key, today)
    address = await clean_address(data["address"], "address")
    note = data["general_note"]
    family = Family(
        registered_setting_id=setting_key,
        source=data["source"],
        received_on=form.received_on,
        consent_to_contact=data["consent_to_contact"],
        entered_by_id=principal.user_id,
        entered_at=utcnow(),
        general_note=None if note is None else (v.clean_text(note, "generalNote", 4000, required=False) or None),
        **address,
    )
    ctx.session.add(family)
    await ctx.session.flush()
    form.family_id = family.id
    mark_entered(ctx, form)
    created: dict[str, list[Any]] = {"carers": [], "children": []}
    for group, person in people:
        index = len(created[group])
        values = await clean_person(ctx, person, f"{group}[{index}]", today)
        if group == "carers":
            created[group].append(Carer(family_id=family.id, **values))
        else:
            created[group].append(
                Child(family_id=family.id, provisional_name=bool(person.get("provisional_name")), **values)
            )
    ctx.session.add_all(created["carers"] + created["children"])
    await ctx.session.flush()
    contactpoint.touch_family(ctx.session, family.id)
    for index, (carer, person) in enumerate(zip(created["carers"], data["carers"], strict=True)):
        if person["relationship"] is not None:
            field = f"carers[{index}].relationshipToChildren"
            await v.active_code(ctx.session, "RELATIONSHIP", person["relationship"], field)
            ctx.session.add_all(
                CarerChild(carer_id=carer.id, child_id=child.id, relationship=person["relationship"])
                for child in created["children"]
            )
    family_values = {**address, "general_note": family.general_note, "consent_to_contact": family.consent_to_contact}
    if form.referral_type is not None:
        family_values["referral"] = f"{form.referral_type} referral: {form.reason_code}"
    record_changes(
        ctx, "family.register", "Family", family.id, FAMILY_FIELDS, {}, family_values,
        family_id=family.id, setting_id=setting_key,
    )  # fmt: skip
    relationships = {
        carer.id: person["relationship"] for carer, person in zip(created["carers"], data["carers"], strict=True)
    }
    for person in created["carers"] + created["children"]:
        values = {column: getattr(person, column) for column in PERSON_FIELDS if hasattr(person, column)}
        if isinstance(person, Carer) and created["children"]:
            values["relationship"] = relationships[person.id]
        record_changes(
            ctx, "person.register", type(person).__name__, person.id, PERSON_FIELDS, {}, values,
            family_id=family.id, setting_id=setting_key,
        )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return (await as_records(ctx, [family]))[0]


async def registration_form(ctx: Context, data: NewFamily, kind: Deadline, setting: int, today: date) -> Form:
    """The initial contact or referral form the family is registered from (standards 5.1,
    5.2): one logged as received earlier, or a new one received on `receivedOn`."""
    form_id, consent_date = data["form_id"], data["consent_date"]
    if form_id:
        form = await outstanding_form(ctx, form_id, kind, setting)
    else:
        form = Form(
            kind=kind.value,
            setting_id=setting,
            received_on=v.past_date(data["received_on"], "receivedOn", today),
            logged_by_id=ctx.require_principal().user_id,
            logged_at=utcnow(),
        )
        ctx.session.add(form)
    form.consent_to_contact = data["consent_to_contact"]
    form.consent_recorded_by_id = ctx.require_principal().user_id
    form.consent_date = v.past_date(consent_date, "consentDate", today) if consent_date else form.received_on
    referral = data.get("referral")
    if referral is not None:
        if kind is not Deadline.REFERRAL:
            raise BadUserInput("referral details belong to a registration from a referral", "referral")
        await fill_referral(ctx, form, referral)
    return form


async def fill_referral(ctx: Context, form: Form, referral: ReferralData) -> None:
    form.referral_type = referral["referral_type"]
    form.referrer_name = _optional(referral.get("referrer_name"), "referral.referrerName", 200)
    form.referrer_organisation = _optional(referral.get("organisation"), "referral.organisation", 200)
    form.reason_code = await v.active_code(ctx.session, "REFERRAL_REASON", referral["reason"], "referral.reason")


async def clean_address(address: AddressData | None, field: str) -> dict[str, Any]:
    if address is None:
        return {"address_line1": None, "address_line2": None, "town": None, "postcode": None}
    return {
        "address_line1": _optional(address["line1"], f"{field}.line1", 200),
        "address_line2": _optional(address["line2"], f"{field}.line2", 200),
        "town": _optional(address["town"], f"{field}.town", 100),
        "postcode": None if address["postcode"] is None else v.clean_postcode(address["postcode"], f"{field}.postcode"),
    }


def _optional(value: str | None, field: str, max_length: int) -> str | None:
    return None if value is None else (v.clean_text(value, field, max_length, required=False) or None)


async def clean_person(ctx: Context, person: PersonData, field: str, today: date) -> dict[str, Any]:
    dob = person["date_of_birth"]
    values = {
        "first_name": v.provisional_forename(person["first_name"], field)
        if person.get("provisional_name")
        else v.clean_name(person["first_name"], f"{field}.firstName"),
        "last_name": v.clean_name(person["last_name"], f"{field}.lastName"),
        "date_of_birth": None if dob is None else v.past_date(dob, f"{field}.dateOfBirth", today),
        "gender": person["gender"],
        "ethnicity": None
        if person["ethnicity"] is None
        else await v.active_code(ctx.session, "ETHNICITY", person["ethnicity"], f"{field}.ethnicity"),
        "language": None
        if person["language"] is None
        else await v.active_code(ctx.session, "LANGUAGE", person["language"], f"{field}.language"),
    }
    return values


async def update_family(ctx: Context, family_id: str, expected_version: int, changes: FamilyChanges) -> FamilyRecord:
    """`changes` holds only the fields the client gave (an omitted field is unchanged)."""
    if not {"address", "general_note"} & changes.keys():
        raise BadUserInput("give at least one field to change (address, generalNote)", "input")
    # The write right of each field given, as the field declares its category.
    fields = {"address": category_of("Family", "address"), "general_note": category_of("Family", "general_note")}
    categories = [category for name, category in fields.items() if name in changes]
    target = await load_for_write(
        ctx.session, ctx.require_principal(), Family, decode_key(family_id, "Family"), categories, "id: no such family"
    )
    family = target.row
    values: dict[str, Any] = {}
    if "address" in changes:
        values.update(await clean_address(changes["address"], "address"))
    if "general_note" in changes:
        note = changes["general_note"]
        values["general_note"] = (
            None if note is None else (v.clean_text(note, "generalNote", 4000, required=False) or None)
        )
    acting = target.acting_setting(categories[0])
    if "address" in changes:
        contactpoint.touch_family(ctx.session, family.id)
    notice_on = changes.get("notice_received_on") or v.today()
    v.past_date(notice_on, "noticeReceivedOn", v.today())
    await bump_version(ctx.session, family.id, expected_version)
    await ctx.session.refresh(family)  # under the lock: the values this write replaces
    before = {name: getattr(family, name) for name in values}
    await ctx.session.execute(
        update(Family).where(Family.id == family.id).values(**values).execution_options(synchronize_session=False)
    )
    categories = record_changes(
        ctx, "family.update", "Family", family.id, FAMILY_FIELDS, before, values,
        family_id=family.id, setting_id=acting,
    )  # fmt: skip
    for category in categories:  # the notice of change, for the deadlines of standards 5.3, 5.4
        log_change_entered(ctx, category, acting, family.id, notice_on)
    await ctx.session.flush()  # atomic() commits, once the response is built
    await ctx.session.refresh(family)
    return (await as_records(ctx, [family]))[0]


async def record_referral(
    ctx: Context, family_id: str, received_on: date, referral: ReferralData, form_id: str | None
) -> Payload:
    """A referral for a family already registered (standards 5.2): its details are entered
    within 2 working days of receipt, like the referral that registers a family."""
    principal = ctx.require_principal()
    target = await load_for_write(
        ctx.session, principal, Family, decode_key(family_id, "Family"), Category.SECONDARY, "familyId: no such family"
    )
    family, setting = target.row, target.acting_setting(Category.SECONDARY)
    if form_id is not None:
        form = await outstanding_form(ctx, form_id, Deadline.REFERRAL, setting)
    else:
        form = Form(
            kind=Deadline.REFERRAL.value,
            setting_id=setting,
            received_on=v.past_date(received_on, "receivedOn", v.today()),
            logged_by_id=principal.user_id,
            logged_at=utcnow(),
        )
        ctx.session.add(form)
    form.family_id = family.id
    await fill_referral(ctx, form, referral)
    mark_entered(ctx, form)
    await ctx.session.flush()
    ctx.audit.write(
        "referral.record", "Family", family.id, family_id=family.id, setting_id=setting, category=Category.SECONDARY,
        changes={"referral": {"after": f"{form.referral_type} referral: {form.reason_code}"}},
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return form_payload(ctx, form, target.grants.access_for(target.scope))
