"""The family record (API.md): each field's category is declared beside it."""

from collections.abc import Awaitable
from datetime import date
from functools import partial

import strawberry
from strawberry.types import Info

from authz.grants import Access
from resolvers import activity as activities
from resolvers.activity import ContactRecord
from resolvers.batching import AnyRow, Known, Loader
from resolvers.context import Context
from resolvers.form import FormRecord, family_forms
from resolvers.history import HistoryEntryRecord, history_entries, visible
from resolvers.ids import encode_id
from resolvers.inputs import AddressData, FamilyChanges, NewFamily
from resolvers.records import AffiliationRecord, FamilyRecord, NoteRecord, PersonRecord, SettingRecord, person_records
from schema.activity import Contact
from schema.affiliation import Affiliation
from schema.enums import FormSource
from schema.fields import INHERITED, Category, field, guarded, public, record
from schema.form import Form, ReferralInput
from schema.history import HistoryEntry, audit_history_read
from schema.note import Note, audited, known_notes
from schema.page import PageInfo, page_info_of
from schema.person import Carer, CarerInput, Child, ChildInput
from schema.setting import Setting

FamilyRoot = strawberry.Parent[FamilyRecord]
# A family's carers or children: the list preloaded with a page, or the loader's (awaited by graphql-core)
People = list[PersonRecord] | Awaitable[list[PersonRecord]]


@record
class Address:
    line1: str | None = field(INHERITED)
    line2: str | None = field(INHERITED)
    town: str | None = field(INHERITED)
    postcode: str | None = field(INHERITED)


@public(name="Access", description="What the caller may read and write on a family.")
class AccessView:
    """The caller's authz.grants.Access to a family, its categories in declaration order."""

    @strawberry.field
    def read(self, root: strawberry.Parent[Access]) -> list[Category]:
        return [c for c in Category if c in root.read]

    @strawberry.field
    def write(self, root: strawberry.Parent[Access]) -> list[Category]:
        return [c for c in Category if c in root.write]


@record
class Family:
    version: int = field(Category.PRIMARY)
    address: Address | None = field(Category.PRIMARY)
    general_note: str | None = field(Category.SECONDARY)

    @guarded(Category.PRIMARY)
    def id(self, root: FamilyRoot) -> strawberry.ID:
        return strawberry.ID(encode_id("Family", root.id))

    @guarded(Category.PRIMARY, preloaded="registered_setting", graphql_type=Setting)
    def registered_setting(self, root: FamilyRoot, info: Info[Context, None]) -> Known[SettingRecord | None]:
        if root.registered_setting is not None:  # read with a page (resolvers.records.family_records)
            return root.registered_setting
        return info.context.loaders.setting_of(root.registered_setting_id)

    # carers and children: the list preloaded with a page (resolvers.family.preload), so no
    # awaitable is made per family; else a coroutine reading through the request's loader,
    # which graphql-core awaits. Either way the guard has decided the field before this runs;
    # the compiled executor reads a preloaded list itself (PRELOADED).
    @guarded(Category.PRIMARY, preloaded="carers", graphql_type=list[Carer])
    def carers(self, root: FamilyRoot, info: Info[Context, None]) -> People:
        return root.carers if root.carers is not None else _people(info.context.loaders.carers, "Carer", root)

    @guarded(Category.PRIMARY, preloaded="children", graphql_type=list[Child])
    def children(self, root: FamilyRoot, info: Info[Context, None]) -> People:
        return root.children if root.children is not None else _people(info.context.loaders.children, "Child", root)

    @guarded(Category.SECONDARY, graphql_type=list[Affiliation] | None)
    def affiliations(self, root: FamilyRoot) -> list[AffiliationRecord]:
        return root.affiliations

    @guarded(Category.SECONDARY)
    async def warnings(self, root: FamilyRoot, info: Info[Context, None]) -> list[str] | None:
        return await info.context.loaders.codes["family"].load((root.id, "WARNING"))

    @guarded(Category.SECONDARY)
    async def hard_to_reach_groups(self, root: FamilyRoot, info: Info[Context, None]) -> list[str] | None:
        return await info.context.loaders.codes["family"].load((root.id, "HARD_TO_REACH_GROUP"))

    @guarded(Category.SECONDARY, description="codes of the CUSTOM_INDICATOR list (standards 11)")
    async def indicators(self, root: FamilyRoot, info: Info[Context, None]) -> list[str] | None:
        return await info.context.loaders.codes["family"].load((root.id, "CUSTOM_INDICATOR"))

    @guarded(
        Category.PRIMARY,
        description="No consent to further contact was given (standards 5.1): registered, not to be contacted. "
        "Primary, because it qualifies the use of the address.",
    )
    def no_further_contact(self, root: FamilyRoot) -> bool:
        return not root.consent_to_contact

    @guarded(
        Category.SECONDARY,
        graphql_type=list[Form] | None,
        description="forms received for this family and their deadlines (standards 5)",
    )
    async def forms(self, root: FamilyRoot, info: Info[Context, None]) -> list[FormRecord]:
        return await family_forms(info.context, root.id)

    @guarded(
        Category.SECONDARY,
        graphql_type=list[Contact] | None,
        description="home visits and other contacts, newest first (standards 5.5)",
    )
    async def contacts(self, root: FamilyRoot, info: Info[Context, None]) -> list[ContactRecord]:
        return await activities.contacts_of(info.context, root.id)

    @guarded(
        Category.PRIMARY,
        graphql_type=list[HistoryEntry],
        description="The record's audit trail; each entry is shown only to those who may read its category.",
    )
    async def history(self, root: FamilyRoot, info: Info[Context, None]) -> list[HistoryEntryRecord]:
        entries = visible(history_entries(await info.context.loaders.history.load(("Family", root.id))), root.access)
        return audit_history_read(info, "Family", root, entries)

    # notes: read with a page (resolvers.family.preload_notes), else a coroutine reading through
    # the request's loader
    @guarded(Category.SECONDARY, graphql_type=list[Note] | None)
    def notes(self, root: FamilyRoot, info: Info[Context, None]) -> Known[list[NoteRecord]]:
        return known_notes(info, root, "family", "HISTORY")

    @guarded(Category.CONFIDENTIAL, graphql_type=list[Note] | None)
    def confidential_notes(self, root: FamilyRoot, info: Info[Context, None]) -> Known[list[NoteRecord]]:
        audit = partial(
            info.context.audit.read,
            "confidential_notes.read",
            "Family",
            root.id,
            family_id=root.id,
            setting_id=root.access.setting,
            category=Category.CONFIDENTIAL,
        )
        return audited(known_notes(info, root, "family", "CONFIDENTIAL"), audit)

    @guarded(Category.PRIMARY, graphql_type=AccessView)
    def access(self, root: FamilyRoot) -> Access:
        return root.access


async def _people(loader: Loader[int, list[AnyRow]], type_name: str, root: FamilyRecord) -> list[PersonRecord]:
    return person_records(type_name, await loader.load(root.id), root.access)


@public  # its nodes are records, guarded field by field
class FamilyConnection:
    nodes: list[Family]
    total_count: int
    page_info: PageInfo = strawberry.field(resolver=page_info_of)


@strawberry.input
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    town: str | None = None
    postcode: str | None = None

    def data(self) -> AddressData:
        return AddressData(line1=self.line1, line2=self.line2, town=self.town, postcode=self.postcode)


@strawberry.input
class RegisterFamilyInput:
    setting_id: strawberry.ID
    source: FormSource
    received_on: date
    consent_to_contact: bool = False
    address: AddressInput | None = None
    carers: list[CarerInput] = strawberry.field(default_factory=list)
    children: list[ChildInput] = strawberry.field(default_factory=list)
    general_note: str | None = None
    form_id: strawberry.ID | None = strawberry.field(
        default=None, description="the form logged earlier by logFormReceived that this registration enters"
    )
    consent_date: date | None = strawberry.field(default=None, description="default: receivedOn")
    referral: ReferralInput | None = None

    def data(self) -> NewFamily:
        return NewFamily(
            setting_id=self.setting_id,
            source=self.source.value,
            received_on=self.received_on,
            consent_to_contact=self.consent_to_contact,
            address=None if self.address is None else self.address.data(),
            carers=[carer.data() for carer in self.carers],
            children=[child.data() for child in self.children],
            general_note=self.general_note,
            form_id=self.form_id,
            consent_date=self.consent_date,
            referral=None if self.referral is None else self.referral.data(),
        )


@strawberry.input(description="An omitted field is unchanged; null clears it.")
class UpdateFamilyInput:
    address: AddressInput | None = strawberry.UNSET
    general_note: str | None = strawberry.UNSET
    notice_received_on: date | None = strawberry.field(
        default=strawberry.UNSET, description="when notice of the change was received (default: today)"
    )

    def changes(self) -> FamilyChanges:
        changes = FamilyChanges()
        if self.address is not strawberry.UNSET:
            changes["address"] = None if self.address is None else self.address.data()
        if self.general_note is not strawberry.UNSET:
            changes["general_note"] = self.general_note
        if self.notice_received_on is not strawberry.UNSET:
            changes["notice_received_on"] = self.notice_received_on
        return changes
