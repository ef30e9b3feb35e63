"""Enums of API.md. Their Python values are what the database stores."""

from enum import Enum

import strawberry

from authz.categories import Category as AuthzCategory, Role as AuthzRole

Role = strawberry.enum(AuthzRole, name="Role")
Category = strawberry.enum(AuthzCategory, name="Category")


@strawberry.enum
class Gender(str, Enum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    OTHER = "OTHER"
    NOT_KNOWN = "NOT_KNOWN"


@strawberry.enum
class Relationship(str, Enum):
    MOTHER = "MOTHER"
    FATHER = "FATHER"
    STEP_PARENT = "STEP_PARENT"
    GRANDPARENT = "GRANDPARENT"
    FOSTER_CARER = "FOSTER_CARER"
    GUARDIAN = "GUARDIAN"
    OTHER_RELATIVE = "OTHER_RELATIVE"
    OTHER = "OTHER"


@strawberry.enum
class CpCategory(str, Enum):
    NEGLECT = "NEGLECT"
    PHYSICAL_ABUSE = "PHYSICAL_ABUSE"
    EMOTIONAL_ABUSE = "EMOTIONAL_ABUSE"
    SEXUAL_ABUSE = "SEXUAL_ABUSE"
    MULTIPLE = "MULTIPLE"


@strawberry.enum
class NoteKind(str, Enum):
    HISTORY = "HISTORY"
    CONFIDENTIAL = "CONFIDENTIAL"


@strawberry.enum
class FormSource(str, Enum):
    INITIAL_CONTACT = "INITIAL_CONTACT"
    REFERRAL = "REFERRAL"
