"""The ContactPoint feed (API.md "The ContactPoint feed"): nothing about a child beyond its
name, date of birth, gender, address and the settings involved is ever in it. The root field
is the gate (CONTACTPOINT read); these types are reached only through it."""

from datetime import date, datetime
from enum import StrEnum

import strawberry

from resolvers.contactpoint import Change, FedChild
from resolvers.ids import encode_id
from schema.enums import Gender
from schema.family import Address
from schema.fields import root_checked
from schema.setting import Setting


@strawberry.enum
class ContactPointChangeKind(StrEnum):
    UPSERT = "UPSERT"
    REMOVED = "REMOVED"


@root_checked
class ContactPointChild:
    first_name: str
    last_name: str
    date_of_birth: date | None
    address: Address | None
    settings: list[Setting]

    @strawberry.field
    def id(self, root: strawberry.Parent[FedChild]) -> strawberry.ID:
        return strawberry.ID(encode_id("Child", root.id))

    @strawberry.field
    def gender(self, root: strawberry.Parent[FedChild]) -> Gender:
        return Gender(root.gender)


@root_checked
class ContactPointChange:
    at: datetime
    child: ContactPointChild | None

    @strawberry.field
    def cursor(self, root: strawberry.Parent[Change]) -> str:
        return encode_id("ContactPoint", root.seq)

    @strawberry.field
    def kind(self, root: strawberry.Parent[Change]) -> ContactPointChangeKind:
        return ContactPointChangeKind(root.kind)

    @strawberry.field
    def child_id(self, root: strawberry.Parent[Change]) -> strawberry.ID:
        return strawberry.ID(encode_id("Child", root.child_id))


@root_checked
class ContactPointPage:
    changes: list[ContactPointChange]
    end_cursor: str | None
    has_more: bool
