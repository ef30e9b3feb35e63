"""Families: reading one or a page, registering, updating."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from auth.principal import Principal
from authz.categories import Action, Category
from errors import BadUserInput, Conflict, NotFound
from models import Affiliation, Carer, CarerChild, Child, Family, Form
from models.base import utcnow
from resolvers import validation as v
from resolvers.context import Context
from resolvers.form import mark_entered, outstanding_form
from resolvers.history import FAMILY_FIELDS, PERSON_FIELDS, record_changes
from resolvers.ids import decode_key, encode_id
from resolvers.loaders import with_setting
from resolvers.records import FamilyRecord, family_record, person_record
from resolvers.rights import acting_setting, require, require_anywhere
from resolvers.scope import access_and_affiliations, affiliated_with, scope_of, shared_with
from resolvers.working_days import Deadline

# A household's people in one registration; more is a mistake or an attack, never a family.
MAX_CARERS, MAX_CHILDREN = 10, 20


@dataclass(slots=True)
class FamilyPage:
    nodes: list[FamilyRecord]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


async def as_records(ctx: Context, rows: list[Any]) -> list[FamilyRecord]:
    scopes = await access_and_affiliations(ctx, rows)
    return [family_record(row, access, affs) for row, (access, affs) in zip(rows, scopes, strict=True)]


async def preload(ctx: Context, records: list[FamilyRecord], relations: Collection[str]) -> None:
    """Read a page's carers and children (those of `relations`) in one statement each, so the
    fields resolve without an awaitable per family. The guard still decides every field."""
    ids = [record.id for record in records]
    for relation, model, loader in (("carers", Carer, ctx.loaders.carers), ("children", Child, ctx.loaders.children)):
        if relation not in relations:
            continue
        for record, rows in zip(records, await ctx.loaders.read_people(model, ids), strict=True):
            loader.prime(record.id, rows)  # a later `family(id)` of the same request reads no more
            setattr(record, relation, [person_record(model.__name__, row, record.access) for row in rows])


async def get_family(ctx: Context, family_id: str) -> FamilyRecord:
    # Callers with no right to family data learn nothing, not even whether the id exists.
    require_anywhere(ctx, Category.PRIMARY, Action.READ)
    key = decode_key(family_id, "Family")
    row = None if key is None else await ctx.loaders.family.load(key)
    if row is None:
        raise NotFound()
    return (await as_records(ctx, [row]))[0]


async def list_families(
    ctx: Context, setting_id: str | None, first: int, after: str | None, relations: Collection[str] = ()
) -> FamilyPage:
    """A page of families; `relations` names the nodes' relations the query asks for."""
    principal = require_anywhere(ctx, Category.PRIMARY, Action.READ)
    if not 1 <= first <= ctx.config.max_page_size:
        raise BadUserInput(f"first must be between 1 and {ctx.config.max_page_size}", "first")
    conditions = []
    if setting_id is not None:
        key = decode_key(setting_id, "Setting")
        if key is None:
            raise BadUserInput("settingId: no such setting", "settingId")
        conditions.append(in_settings(principal, [key]))
    else:
        home = {s for _, s in principal.assignments}
        authority_wide = None in home or principal.grants.settings_for(Category.SECONDARY, Action.READ) is None
        if not authority_wide:
            conditions.append(in_settings(principal, [s for s in home if s is not None]))
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
    return FamilyPage(
        nodes=nodes,
        has_next_page=len(families) > first,
        end_cursor=encode_id("Cursor", nodes[-1].id) if nodes else None,
        total_count=families_total,
    )


def in_settings(principal: Principal, settings: list[int]) -> ColumnElement[bool]:
    """Families registered with or affiliated to these settings. Affiliations are secondary
    data: a family is listed for its affiliation only if the caller may read its secondary
    data, or the filter would reveal the affiliation to someone who may not see it."""
    readable = principal.grants.settings_for(Category.SECONDARY, Action.READ)
    if readable is None:
        return shared_with(settings)
    return or_(
        Family.registered_setting_id.in_(settings),
        and_(affiliated_with(settings), shared_with(readable)),
    )


async def family_scope(ctx: Context, family: Family) -> frozenset[int]:
    affiliations = await ctx.session.scalars(select(Affiliation).where(Affiliation.family_id == family.id))
    return scope_of(family.registered_setting_id, affiliations)


async def family_for_write(ctx: Context, family_id: str, field: str = "id") -> Family:
    require_anywhere(ctx, Category.PRIMARY, Action.READ)
    key = decode_key(family_id, "Family")
    family = None if key is None else await ctx.session.get(Family, key)
    if family is None:
        raise NotFound(f"{field}: no such family")
    return family


async def register_family(ctx: Context, data: dict[str, Any]) -> FamilyRecord:
    """`data` is the input as plain values (see schema.mutation.plain)."""
    today = v.today()
    setting_key = await v.existing_setting(ctx.session, data["setting_id"], "settingId")
    scope = frozenset([setting_key])
    principal = require(ctx, Category.PRIMARY, Action.WRITE, scope)
    for group, most in (("carers", MAX_CARERS), ("children", MAX_CHILDREN)):
        if len(data[group]) > most:
            raise BadUserInput(f"{group}: at most {most} in one registration", group)
    people = [("carers", p) for p in data["carers"]] + [("children", p) for p in data["children"]]
    secondary = (
        data["general_note"],
        data.get("referral"),
        *(p[k] for _, p in people for k in ("ethnicity", "language")),
    )
    if any(value is not None for value in secondary) or (data["source"] == Deadline.REFERRAL and data.get("form_id")):
        require(ctx, Category.SECONDARY, Action.WRITE, scope)
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


async def registration_form(ctx: Context, data: dict[str, Any], kind: Deadline, setting: int, today: date) -> Form:
    """The initial contact or referral form the family is registered from (standards 5.1,
    5.2): one logged as received earlier, or a new one received on `receivedOn`."""
    if data.get("form_id"):
        form = await outstanding_form(ctx, data["form_id"], kind, setting)
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
    form.consent_date = (
        v.past_date(data["consent_date"], "consentDate", today) if data.get("consent_date") else form.received_on
    )
    referral = data.get("referral")
    if referral is not None:
        if kind is not Deadline.REFERRAL:
            raise BadUserInput("referral details belong to a registration from a referral", "referral")
        await fill_referral(ctx, form, referral)
    return form


async def fill_referral(ctx: Context, form: Form, referral: dict[str, Any]) -> None:
    form.referral_type = referral["referral_type"]
    form.referrer_name = _optional(referral.get("referrer_name"), "referral.referrerName", 200)
    form.referrer_organisation = _optional(referral.get("organisation"), "referral.organisation", 200)
    form.reason_code = await v.active_code(ctx.session, "REFERRAL_REASON", referral["reason"], "referral.reason")


async def clean_address(address: dict[str, Any] | None, field: str) -> dict[str, Any]:
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


async def clean_person(ctx: Context, person: dict[str, Any], field: str, today: date) -> dict[str, Any]:
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


async def update_family(ctx: Context, family_id: str, expected_version: int, changes: dict[str, Any]) -> FamilyRecord:
    """`changes` holds only the fields the client gave (an omitted field is unchanged)."""
    if not {"address", "general_note"} & changes.keys():
        raise BadUserInput("give at least one field to change (address, generalNote)", "input")
    family = await family_for_write(ctx, family_id)
    scope = await family_scope(ctx, family)
    values: dict[str, Any] = {}
    if "address" in changes:
        require(ctx, Category.PRIMARY, Action.WRITE, scope)
        values.update(await clean_address(changes["address"], "address"))
    if "general_note" in changes:
        require(ctx, Category.SECONDARY, Action.WRITE, scope)
        note = changes["general_note"]
        values["general_note"] = (
            None if note is None else (v.clean_text(note, "generalNote", 4000, required=False) or None)
        )
    first_category = Category.PRIMARY if "address" in changes else Category.SECONDARY
    acting = acting_setting(ctx.require_principal(), first_category, scope, family.registered_setting_id)
    before = {name: getattr(family, name) for name in values}
    notice_on = changes.get("notice_received_on") or v.today()
    v.past_date(notice_on, "noticeReceivedOn", v.today())
    result = await ctx.session.execute(
        update(Family)
        .where(Family.id == family.id, Family.version == expected_version)
        .values(version=Family.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await ctx.session.rollback()
        raise Conflict(f"The family was changed since version {expected_version}; reload it", field="expectedVersion")
    categories = record_changes(
        ctx, "family.update", "Family", family.id, FAMILY_FIELDS, before, values,
        family_id=family.id, setting_id=acting,
    )  # fmt: skip
    for category in categories:  # the notice of change, for the deadlines of standards 5.3, 5.4
        kind = Deadline.PRIMARY_CHANGE if category is Category.PRIMARY else Deadline.SECONDARY_CHANGE
        change = Form(
            kind=kind.value,
            setting_id=acting,
            family_id=family.id,
            received_on=notice_on,
            logged_by_id=ctx.require_principal().user_id,
            logged_at=utcnow(),
        )
        mark_entered(ctx, change)
        ctx.session.add(change)
    await ctx.session.flush()  # atomic() commits, once the response is built
    await ctx.session.refresh(family)
    return (await as_records(ctx, [family]))[0]


async def record_referral(
    ctx: Context, family_id: str, received_on: date, referral: dict[str, Any], form_id: str | None
) -> Form:
    """A referral for a family already registered (standards 5.2): its details are entered
    within 2 working days of receipt, like the referral that registers a family."""
    family = await family_for_write(ctx, family_id, "familyId")
    scope = await family_scope(ctx, family)
    principal = require(ctx, Category.SECONDARY, Action.WRITE, scope)
    setting = acting_setting(principal, Category.SECONDARY, scope, family.registered_setting_id)
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
    return form
