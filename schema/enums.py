"""Enums of API.md. Their Python values are what the database stores."""

from enum import StrEnum

import strawberry

from authz.categories import Category as AuthzCategory
from authz.categories import Role as AuthzRole

Role = strawberry.enum(AuthzRole, name="Role")
Category = strawberry.enum(AuthzCategory, name="Category")


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
