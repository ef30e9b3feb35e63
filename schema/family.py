"""The family record (API.md): each field's category is declared beside it."""

from datetime import date
from typing import Any

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

from resolvers import activity as activities
from resolvers.context import Context
from resolvers.form import form_record
from resolvers.history import history_entries, visible
from resolvers.ids import encode_id
from resolvers.records import FamilyRecord, PersonRecord, person_record
from schema.activity import Contact
from schema.affiliation import Affiliation
from schema.enums import Category as CategoryEnum
from schema.enums import FormSource
from schema.fields import INHERITED, Category, field, guarded, public, record
from schema.form import Form, ReferralInput
from schema.history import HistoryEntry, audit_history_read
from schema.note import Note, notes_of
from schema.person import Carer, CarerInput, Child, ChildInput
from schema.setting import Setting

FamilyRoot = strawberry.Parent[FamilyRecord]


@record
class Address:
    line1: str | None = field(INHERITED)
    line2: str | None = field(INHERITED)
    town: str | None = field(INHERITED)
    postcode: str | None = field(INHERITED)


@public(description="What the caller may read and write on a family.")
class Access:
    read: list[CategoryEnum]
    write: list[CategoryEnum]


@record
class Family:
    version: int = field(Category.PRIMARY)
    address: Address | None = field(Category.PRIMARY)
    general_note: str | None = field(Category.SECONDARY)

    @guarded(Category.PRIMARY)
    def id(self, root: FamilyRoot) -> strawberry.ID:
        return strawberry.ID(encode_id("Family", root.id))

    @guarded(Category.PRIMARY)
    async def registered_setting(self, root: FamilyRoot, info: Info[Context, None]) -> Setting:
        return await info.context.loaders.setting.load(root.registered_setting_id)

    # carers and children: the list preloaded with a page (resolvers.family.preload), so no
    # awaitable is made per family; else a coroutine reading through the request's loader,
    # which graphql-core awaits. Either way the guard has decided the field before this runs.
    @guarded(Category.PRIMARY)
    def carers(self, root: FamilyRoot, info: Info[Context, None]) -> list[Carer]:
        if root.carers is not None:
            return root.carers  # type: ignore[return-value]
        return _people(info.context.loaders.carers, "Carer", root)  # type: ignore[return-value]

    @guarded(Category.PRIMARY)
    def children(self, root: FamilyRoot, info: Info[Context, None]) -> list[Child]:
        if root.children is not None:
            return root.children  # type: ignore[return-value]
        return _people(info.context.loaders.children, "Child", root)  # type: ignore[return-value]

    @guarded(Category.SECONDARY)
    def affiliations(self, root: FamilyRoot) -> list[Affiliation] | None:
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

    @guarded(Category.SECONDARY, description="forms received for this family and their deadlines (standards 5)")
    async def forms(self, root: FamilyRoot, info: Info[Context, None]) -> list[Form] | None:
        return [form_record(info.context, form) for form in await info.context.loaders.forms.load(root.id)]

    @guarded(Category.SECONDARY, description="home visits and other contacts, newest first (standards 5.5)")
    async def contacts(self, root: FamilyRoot, info: Info[Context, None]) -> list[Contact] | None:
        return await activities.contacts_of(info.context, root.id)  # type: ignore[return-value]

    @guarded(
        Category.PRIMARY,
        description="The record's audit trail; each entry is shown only to those who may read its category.",
    )
    async def history(self, root: FamilyRoot, info: Info[Context, None]) -> list[HistoryEntry]:
        entries = visible(history_entries(await info.context.loaders.history.load(("Family", root.id))), root.access)
        return audit_history_read(info, "Family", root, entries)

    @guarded(Category.SECONDARY)
    async def notes(self, root: FamilyRoot, info: Info[Context, None]) -> list[Note] | None:
        return await notes_of(info, "family", root.id, "HISTORY")  # type: ignore[return-value]

    @guarded(Category.CONFIDENTIAL)
    async def confidential_notes(self, root: FamilyRoot, info: Info[Context, None]) -> list[Note] | None:
        notes = await notes_of(info, "family", root.id, "CONFIDENTIAL")
        info.context.audit.read(
            "confidential_notes.read",
            "Family",
            root.id,
            family_id=root.id,
            setting_id=root.access.setting,
            category=Category.CONFIDENTIAL,
        )
        return notes  # type: ignore[return-value]

    @guarded(Category.PRIMARY)
    def access(self, root: FamilyRoot) -> Access:
        return Access(
            read=[c for c in CategoryEnum if c in root.access.read],
            write=[c for c in CategoryEnum if c in root.access.write],
        )


async def _people(loader: DataLoader[int, Any], type_name: str, root: FamilyRecord) -> list[PersonRecord]:
    return [person_record(type_name, row, root.access) for row in await loader.load(root.id)]


@public
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@public  # its nodes are records, guarded field by field
class FamilyConnection:
    nodes: list[Family]
    total_count: int

    @strawberry.field
    def page_info(self, root: strawberry.Parent[object]) -> PageInfo:
        return PageInfo(has_next_page=root.has_next_page, end_cursor=root.end_cursor)  # type: ignore[attr-defined]


@strawberry.input
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    town: str | None = None
    postcode: str | None = None


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


@strawberry.input(description="An omitted field is unchanged; null clears it.")
class UpdateFamilyInput:
    address: AddressInput | None = strawberry.UNSET
    general_note: str | None = strawberry.UNSET
    notice_received_on: date | None = strawberry.field(
        default=strawberry.UNSET, description="when notice of the change was received (default: today)"
    )
