"""Carers and children after registration (standards 5.3, 5.4, 12): corrections, arrivals,
relationships and departures. A person who leaves is kept, never deleted."""

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, update

from authz.categories import Action, Category
from authz.scope import Target, load_for_write, require_anywhere
from errors import BadUserInput, Conflict, NotFound
from models import Carer, CarerChild, Child, Family
from resolvers import contactpoint
from resolvers import validation as v
from resolvers.context import Context
from resolvers.family import MAX_CARERS, MAX_CHILDREN, as_records, clean_person
from resolvers.form import log_change_entered
from resolvers.history import PERSON_FIELDS, field_category, record_changes
from resolvers.ids import decode_id, decode_key, encode_id
from resolvers.inputs import PersonChanges, PersonData, RelationshipData
from resolvers.records import PersonRecord, person_record

PEOPLE: dict[str, type[Carer] | type[Child]] = {"Carer": Carer, "Child": Child}
PERSON_INPUT_FIELDS = ("first_name", "last_name", "date_of_birth", "gender", "ethnicity", "language")
REQUIRED = {"first_name": "firstName", "last_name": "lastName", "gender": "gender"}


async def _get(ctx: Context, type_name: str, key: int) -> Carer | Child | None:
    # Through the Reader: `carer(id)` and `child(id)` in one query resolve concurrently, and the
    # request's session allows one operation at a time (InvalidRequestError, seen on PostgreSQL).
    if type_name == "Carer":
        return await ctx.reader.get(Carer, key)
    return await ctx.reader.get(Child, key)


async def person_for_write(
    ctx: Context, person_id: str, categories: Collection[Category], *type_names: str, field: str = "id"
) -> tuple[str, Target[Any]]:
    """The carer or child an id names, for a write of `categories` (authz.scope.load_for_write)."""
    decoded = decode_id(person_id, *type_names)
    type_name, key = (type_names[0], None) if decoded is None else decoded
    missing = f"{field}: no such {' or '.join(t.lower() for t in type_names)}"
    return type_name, await load_for_write(
        ctx.session, ctx.require_principal(), PEOPLE[type_name], key, categories, missing
    )


async def get_person(ctx: Context, person_id: str, type_name: str) -> PersonRecord:
    """One carer or child by id, current or departed, with the caller's access to its family."""
    require_anywhere(ctx.require_principal(), Category.PRIMARY, Action.READ)
    key = decode_key(person_id, type_name)
    row = None if key is None else await _get(ctx, type_name, key)
    if row is None:
        raise NotFound()
    family = await ctx.reader.get(Family, row.family_id)
    assert family is not None
    access = (await as_records(ctx, [family]))[0].access
    return person_record(type_name, row, access)


async def update_person(
    ctx: Context, type_name: str, person_id: str, expected_version: int, changes: PersonChanges
) -> PersonRecord:
    """Correct a person's details: each field given needs the write right of its category, and
    is validated as at registration. `changes` holds only the fields the client gave."""
    given = {name: value for name, value in changes.items() if name in PERSON_INPUT_FIELDS}
    if not given:
        raise BadUserInput(f"give at least one field to change ({', '.join(REQUIRED)}, …)", "input")
    categories = {field_category(type_name, PERSON_FIELDS, name) for name in given}
    _, member = await person_for_write(ctx, person_id, sorted(categories), type_name)
    for name, api_name in REQUIRED.items():
        if name in given and given[name] is None:
            raise BadUserInput(f"{api_name} cannot be cleared", api_name)
    today = v.today()
    notice_on = v.past_date(changes.get("notice_received_on") or today, "noticeReceivedOn", today)
    values = await _clean_changes(ctx, member, given, today)
    if member.row.version != expected_version:
        raise _stale(type_name, expected_version)
    before = {name: getattr(member.row, name) for name in values}
    model = PEOPLE[type_name]
    result = await ctx.session.execute(
        update(model)
        .where(model.id == member.row.id, model.version == expected_version)
        .values(version=model.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _stale(type_name, expected_version)
    acting = member.acting_setting(Category.PRIMARY if Category.PRIMARY in categories else Category.SECONDARY)
    audited = {name: value for name, value in values.items() if name in PERSON_FIELDS}
    changed = record_changes(
        ctx, "person.update", type_name, member.row.id, PERSON_FIELDS, before, audited,
        family_id=member.family.id, setting_id=acting,
    )  # fmt: skip
    if type_name == "Child" and Category.PRIMARY in changed:  # name, birth date or gender: fed
        contactpoint.touch_child(ctx.session, member.row.id)
    for category in changed:  # the notice of change, for the deadlines of standards 5.3, 5.4
        log_change_entered(ctx, category, acting, member.family.id, notice_on)
    await ctx.session.flush()  # atomic() commits, once the response is built
    await ctx.session.refresh(member.row)
    return await _record(ctx, type_name, member.row, member.family)


async def _clean_changes(ctx: Context, member: Target[Any], given: dict[str, Any], today: date) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "first_name" in given:
        values["first_name"] = v.clean_name(given["first_name"], "firstName")
        if isinstance(member.row, Child):
            values["provisional_name"] = False  # a newborn named at last (standards 12)
    if "last_name" in given:
        values["last_name"] = v.clean_name(given["last_name"], "lastName")
    if "date_of_birth" in given:
        dob = given["date_of_birth"]
        values["date_of_birth"] = None if dob is None else v.past_date(dob, "dateOfBirth", today)
    if "gender" in given:
        values["gender"] = given["gender"]
    for name, list_name in (("ethnicity", "ETHNICITY"), ("language", "LANGUAGE")):
        if name in given:
            code = given[name]
            values[name] = None if code is None else await v.active_code(ctx.session, list_name, code, name)
    return values


def _stale(type_name: str, expected_version: int) -> Conflict:
    return Conflict(
        f"The {type_name.lower()} was changed since version {expected_version}; reload it", field="expectedVersion"
    )


async def add_person(
    ctx: Context, type_name: str, family_id: str, data: PersonData, relationships: list[RelationshipData]
) -> PersonRecord:
    """A newborn, a new partner, a child come to stay: PRIMARY write in the family's scope, and
    SECONDARY write for ethnicity or language given, validated as at registration."""
    categories = [Category.PRIMARY]
    if data.get("ethnicity") is not None or data.get("language") is not None:
        categories.append(Category.SECONDARY)
    target = await load_for_write(
        ctx.session, ctx.require_principal(), Family, decode_key(family_id, "Family"), categories,
        "familyId: no such family",
    )  # fmt: skip
    family = target.row
    model = PEOPLE[type_name]
    most = MAX_CARERS if model is Carer else MAX_CHILDREN
    if await _current_count(ctx, model, family.id) >= most:
        raise BadUserInput(f"a family holds at most {most} {'carers' if model is Carer else 'children'}", "familyId")
    values = await clean_person(ctx, data, "input", v.today())
    person: Carer | Child
    if model is Carer:
        person = Carer(family_id=family.id, **values)
    else:
        person = Child(family_id=family.id, provisional_name=bool(data.get("provisional_name")), **values)
    ctx.session.add(person)
    await ctx.session.flush()
    if isinstance(person, Child):
        contactpoint.touch_child(ctx.session, person.id)
    links = await _relationships_of(ctx, person, family, data, relationships)
    ctx.session.add_all(links)
    acting = target.acting_setting(Category.PRIMARY)
    after = {column: getattr(person, column) for column in PERSON_FIELDS if hasattr(person, column)}
    if isinstance(person, Carer) and links:
        after["relationship"] = data.get("relationship")
    record_changes(
        ctx, "person.register", type_name, person.id, PERSON_FIELDS, {}, after,
        family_id=family.id, setting_id=acting,
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    await ctx.session.refresh(person)
    return await _record(ctx, type_name, person, family)


async def _current_count(ctx: Context, model: type[Carer] | type[Child], family_id: int) -> int:
    statement = select(func.count()).select_from(model).where(model.family_id == family_id, model.left_on.is_(None))
    return int(await ctx.session.scalar(statement) or 0)


async def _relationships_of(
    ctx: Context, person: Carer | Child, family: Family, data: PersonData, relationships: list[RelationshipData]
) -> list[CarerChild]:
    """A new carer's relationship to each current child, or a new child's to the carers named."""
    if isinstance(person, Carer):
        relationship = data.get("relationship")
        if relationship is None:
            return []
        children = await ctx.session.scalars(
            select(Child.id).where(Child.family_id == family.id, Child.left_on.is_(None))
        )
        return [CarerChild(carer_id=person.id, child_id=child, relationship=relationship) for child in children]
    links: dict[int, CarerChild] = {}
    for index, link in enumerate(relationships):
        field = f"relationships[{index}].carerId"
        carer = await _current_member(ctx, Carer, link["carer_id"], family.id, field)
        if carer.id in links:
            raise BadUserInput(f"{field}: this carer is named twice", field)
        links[carer.id] = CarerChild(carer_id=carer.id, child_id=person.id, relationship=link["relationship"])
    return list(links.values())


async def _current_member(
    ctx: Context, model: type[Carer] | type[Child], person_id: str, family_id: int, field: str
) -> Carer | Child:
    key = decode_key(person_id, model.__name__)
    row = None if key is None else await _get(ctx, model.__name__, key)
    if row is None or row.family_id != family_id or row.left_on is not None:
        raise BadUserInput(f"{field}: not a current {model.__name__.lower()} of this family", field)
    return row


async def set_relationship(ctx: Context, carer_id: str, child_id: str, relationship: str | None) -> PersonRecord:
    """How a carer is related to a child of the same family (PRIMARY); None removes it."""
    _, member = await person_for_write(ctx, carer_id, [Category.PRIMARY], "Carer", field="carerId")
    if member.row.left_on is not None:
        raise BadUserInput("carerId: this carer has left the family", "carerId")
    child = await _current_member(ctx, Child, child_id, member.family.id, "childId")
    link = await ctx.session.scalar(
        select(CarerChild).where(CarerChild.carer_id == member.row.id, CarerChild.child_id == child.id)
    )
    before = None if link is None else link.relationship
    child_ref = encode_id("Child", child.id)
    if before != relationship:
        if link is not None and relationship is None:
            await ctx.session.execute(delete(CarerChild).where(CarerChild.id == link.id))
        elif link is None:
            ctx.session.add(CarerChild(carer_id=member.row.id, child_id=child.id, relationship=relationship))
        else:
            link.relationship = relationship  # type: ignore[assignment]
        ctx.audit.write(
            "relationship.set", "Carer", member.row.id, family_id=member.family.id, category=Category.PRIMARY,
            setting_id=member.acting_setting(Category.PRIMARY),
            changes={"relationshipToChildren": {"before": before, "after": relationship, "child": child_ref}},
        )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return await _record(ctx, "Carer", member.row, member.family)


async def remove_from_family(ctx: Context, person_id: str, left_on: date, reason: str) -> bool:
    """The person leaves the family's carers or children; the record stays (retention, subject
    access). The reason is secondary data: it may say more than that they moved out, so giving
    it needs SECONDARY write beside the PRIMARY write of the departure."""
    type_name, member = await person_for_write(
        ctx, person_id, [Category.PRIMARY, Category.SECONDARY], "Carer", "Child", field="personId"
    )
    if member.row.left_on is not None:
        raise BadUserInput("personId: this person has already left the family", "personId")
    values = {
        "left_on": v.past_date(left_on, "leftOn", v.today()),
        "left_reason": v.clean_text(reason, "reason", 1000),
    }
    # The family row's lock serialises departures, so two at once cannot empty it.
    await ctx.session.execute(select(Family.id).where(Family.id == member.family.id).with_for_update())
    remaining = sum([await _current_count(ctx, model, member.family.id) for model in (Carer, Child)])
    if remaining <= 1:
        raise BadUserInput("personId: a family keeps at least one person", "personId")
    model = PEOPLE[type_name]
    result = await ctx.session.execute(
        update(model)
        .where(model.id == member.row.id, model.left_on.is_(None))
        .values(version=model.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("personId: this person has just left the family", field="personId")
    if type_name == "Child":
        contactpoint.touch_child(ctx.session, member.row.id, contactpoint.REMOVED)
    record_changes(
        ctx, "person.leave", type_name, member.row.id, PERSON_FIELDS, {}, values,
        family_id=member.family.id, setting_id=member.acting_setting(Category.PRIMARY),
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    return True


async def _record(ctx: Context, type_name: str, row: Carer | Child, family: Family) -> PersonRecord:
    access = (await as_records(ctx, [family]))[0].access
    return person_record(type_name, row, access)
