"""Carers and children: the people of a family record."""

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import activity as activities
from resolvers.activity import AttendanceRecord
from resolvers.batching import Known
from resolvers.context import Context
from resolvers.history import HistoryEntryRecord, history_entries, visible
from resolvers.ids import encode_id
from resolvers.inputs import PersonChanges, PersonData, RelationshipData
from resolvers.records import NoteRecord, PersonRecord, PlanRecord, person_records
from schema.activity import Attendance
from schema.cp_plan import ChildProtectionPlan
from schema.enums import Gender, Relationship
from schema.fields import INHERITED, Category, field, guarded, record
from schema.history import HistoryEntry, audit_history_read
from schema.note import Note, audited, known_notes

Person = strawberry.Parent[PersonRecord]
GENDERS = {gender.value: gender for gender in Gender}  # a lookup, not Enum's __call__, for a page's people


@strawberry.type
class PersonFields:
    """Fields carers and children share (API.md)."""

    first_name: str | None = field(Category.PRIMARY)
    last_name: str | None = field(Category.PRIMARY)
    date_of_birth: date | None = field(Category.PRIMARY)
    ethnicity: str | None = field(Category.SECONDARY)
    language: str | None = field(Category.SECONDARY)
    general_note: str | None = field(Category.SECONDARY)
    version: int = field(Category.PRIMARY, description="compared by updateCarer and updateChild (expectedVersion)")
    left_on: date | None = field(Category.PRIMARY, description="when the person left the family (removeFromFamily)")
    left_reason: str | None = field(Category.SECONDARY, description="why the person left the family")

    @guarded(Category.PRIMARY)
    def id(self, root: Person) -> strawberry.ID:
        return strawberry.ID(encode_id(root.type_name, root.id))

    @guarded(Category.PRIMARY)
    def gender(self, root: Person) -> Gender | None:
        return GENDERS.get(root.gender) or Gender(root.gender)

    @guarded(Category.SECONDARY, graphql_type=list[Note] | None)
    def notes(self, root: Person, info: Info[Context, None]) -> Known[list[NoteRecord]]:
        return known_notes(info, root, root.type_name.lower(), "HISTORY")

    @guarded(Category.SECONDARY)
    async def warnings(self, root: Person, info: Info[Context, None]) -> list[str] | None:
        return await info.context.loaders.codes[root.type_name.lower()].load((root.id, "WARNING"))

    @guarded(Category.SECONDARY)
    async def hard_to_reach_groups(self, root: Person, info: Info[Context, None]) -> list[str] | None:
        return await info.context.loaders.codes[root.type_name.lower()].load((root.id, "HARD_TO_REACH_GROUP"))

    @guarded(Category.SECONDARY, description="codes of the CUSTOM_INDICATOR list (standards 11)")
    async def indicators(self, root: Person, info: Info[Context, None]) -> list[str] | None:
        return await info.context.loaders.codes[root.type_name.lower()].load((root.id, "CUSTOM_INDICATOR"))

    @guarded(
        Category.SECONDARY,
        graphql_type=list[Attendance] | None,
        description="register entries of sessions in [from, to], oldest first",
    )
    async def attendance(
        self,
        root: Person,
        info: Info[Context, None],
        date_from: Annotated[date | None, strawberry.argument(name="from")] = None,
        date_to: Annotated[date | None, strawberry.argument(name="to")] = None,
    ) -> list[AttendanceRecord]:
        return await activities.attendance_of(info.context, root.type_name, root.id, date_from, date_to)

    @guarded(
        Category.PRIMARY,
        graphql_type=list[HistoryEntry],
        description="The record's audit trail; each entry is shown only to those who may read its category.",
    )
    async def history(self, root: Person, info: Info[Context, None]) -> list[HistoryEntryRecord]:
        rows = await info.context.loaders.history.load((root.type_name, root.id))
        return audit_history_read(info, root.type_name, root, visible(history_entries(rows), root.access))

    @guarded(Category.CONFIDENTIAL, graphql_type=list[Note] | None)
    def confidential_notes(self, root: Person, info: Info[Context, None]) -> Known[list[NoteRecord]]:
        audit = partial(
            info.context.audit.read,
            "confidential_notes.read",
            root.type_name,
            root.id,
            family_id=root.family_id,
            setting_id=root.access.setting,
            category=Category.CONFIDENTIAL,
        )
        return audited(known_notes(info, root, root.type_name.lower(), "CONFIDENTIAL"), audit)


@record
class Child(PersonFields):
    provisional_name: bool | None = field(
        Category.PRIMARY, description='an unnamed newborn recorded as "Baby" + surname (standards 12)'
    )

    @guarded(Category.CP_PLAN, graphql_type=ChildProtectionPlan | None, description="the open plan, if any")
    async def child_protection_plan(self, root: Person, info: Info[Context, None]) -> PlanRecord | None:
        _audit_plan_read(info, root)
        return await info.context.loaders.open_cp_plan.load(root.id)

    @guarded(
        Category.CP_PLAN,
        graphql_type=list[ChildProtectionPlan] | None,
        description="every plan, past and open, oldest first",
    )
    async def child_protection_plans(self, root: Person, info: Info[Context, None]) -> list[PlanRecord]:
        _audit_plan_read(info, root)
        return await info.context.loaders.all_cp_plans.load(root.id)


def _audit_plan_read(info: Info[Context, None], child: PersonRecord) -> None:
    """Whether a child is subject to a plan is itself child-protection data: reads are audited."""
    info.context.audit.read(
        "cp_plan.read", "Child", child.id, family_id=child.family_id, setting_id=child.access.setting,
        category=Category.CP_PLAN,
    )  # fmt: skip


@dataclass(slots=True)
class RelationshipRecord:
    child: PersonRecord
    relationship: str


@record
class CarerRelationship:
    child: Child = field(INHERITED)

    @guarded(INHERITED)
    def relationship(self, root: strawberry.Parent[RelationshipRecord]) -> Relationship:
        return Relationship(root.relationship)


@record
class Carer(PersonFields):
    @guarded(Category.PRIMARY, graphql_type=list[CarerRelationship])
    async def relationships(self, root: Person, info: Info[Context, None]) -> list[RelationshipRecord]:
        rows = await info.context.loaders.relationships.load(root.id)
        children = person_records("Child", rows, root.access)
        return [RelationshipRecord(child, row.relationship) for child, row in zip(children, rows, strict=True)]


@strawberry.input
class PersonInput:
    first_name: str
    last_name: str
    date_of_birth: date | None = None
    gender: Gender = Gender.NOT_KNOWN
    ethnicity: str | None = None
    language: str | None = None

    def data(self) -> PersonData:
        return PersonData(
            first_name=self.first_name,
            last_name=self.last_name,
            date_of_birth=self.date_of_birth,
            gender=self.gender.value,
            ethnicity=self.ethnicity,
            language=self.language,
        )


@strawberry.input
class CarerInput(PersonInput):
    relationship_to_children: Relationship | None = None

    def data(self) -> PersonData:
        data = super().data()
        data["relationship"] = None if self.relationship_to_children is None else self.relationship_to_children.value
        return data


@strawberry.input
class ChildInput(PersonInput):
    provisional_name: bool = strawberry.field(
        default=False, description='unnamed newborn: recorded as "Baby" + lastName; firstName empty or "Baby"'
    )

    def data(self) -> PersonData:
        data = super().data()
        data["provisional_name"] = self.provisional_name
        return data


@strawberry.input(
    description="Omitted fields are unchanged; null clears (firstName, lastName and gender cannot be cleared)."
)
class UpdatePersonInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    date_of_birth: date | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET
    ethnicity: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    notice_received_on: date | None = strawberry.field(
        default=strawberry.UNSET,
        description="when the change was notified (deadlines of standards 5.3, 5.4); today if omitted",
    )

    def changes(self) -> PersonChanges:
        changes = PersonChanges()
        if self.first_name is not strawberry.UNSET:
            changes["first_name"] = self.first_name
        if self.last_name is not strawberry.UNSET:
            changes["last_name"] = self.last_name
        if self.date_of_birth is not strawberry.UNSET:
            changes["date_of_birth"] = self.date_of_birth
        if self.gender is not strawberry.UNSET:
            changes["gender"] = None if self.gender is None else self.gender.value
        if self.ethnicity is not strawberry.UNSET:
            changes["ethnicity"] = self.ethnicity
        if self.language is not strawberry.UNSET:
            changes["language"] = self.language
        if self.notice_received_on is not strawberry.UNSET:
            changes["notice_received_on"] = self.notice_received_on
        return changes


@strawberry.input
class RelationshipInput:
    carer_id: strawberry.ID
    relationship: Relationship

    def data(self) -> RelationshipData:
        return RelationshipData(carer_id=self.carer_id, relationship=self.relationship.value)
