"""Enums of API.md. Their Python values are what the database stores."""

from enum import StrEnum

import strawberry

from authz.categories import Category, Role

# The authorization vocabulary is the API's: registered as GraphQL enums under their own names.
strawberry.enum(Role, name="Role")
strawberry.enum(Category, name="Category")

__all__ = ["Category", "CpCategory", "FormSource", "Gender", "NoteKind", "Relationship", "Role"]


@strawberry.enum
class Gender(StrEnum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER = "OTHER"
    NOT_KNOWN = "NOT_KNOWN"


@strawberry.enum
class Relationship(StrEnum):
    MOTHER = "MOTHER"
    FATHER = "FATHER"
    STEP_PARENT = "STEP_PARENT"
    GRANDPARENT = "GRANDPARENT"
    FOSTER_CARER = "FOSTER_CARER"
    GUARDIAN = "GUARDIAN"
    OTHER_RELATIVE = "OTHER_RELATIVE"
    OTHER = "OTHER"


@strawberry.enum
class CpCategory(StrEnum):
    NEGLECT = "NEGLECT"
    PHYSICAL_ABUSE = "PHYSICAL_ABUSE"
    EMOTIONAL_ABUSE = "EMOTIONAL_ABUSE"
    SEXUAL_ABUSE = "SEXUAL_ABUSE"
    MULTIPLE = "MULTIPLE"


@strawberry.enum
class NoteKind(StrEnum):
    HISTORY = "HISTORY"
    CONFIDENTIAL = "CONFIDENTIAL"


@strawberry.enum
class FormSource(StrEnum):
    INITIAL_CONTACT = "INITIAL_CONTACT"
    REFERRAL = "REFERRAL"
