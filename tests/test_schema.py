"""The schema: every field of a record has a data category (fail closed at build time), the
SDL is committed and current, sensitive fields are nullable, and every name of API.md exists."""

from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    is_non_null_type,
)

import schema as schema_module
from authz.categories import INHERITED, SHARED_CATEGORIES, Category
from authz.guard import (
    GuardedFieldRequiresOptionalError,
    MissingCategoryError,
    TypeKind,
    UnguardedTypeError,
    install_guards,
)
from schema import build_schema, printed_sdl
from schema.fields import CATEGORY, field, public, record, root_checked

SDL_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
REGENERATE = "estart export-schema > schema.graphql"


@pytest.fixture(scope="module")
def executable() -> GraphQLSchema:
    return build_schema()._schema


def kinds(executable: GraphQLSchema) -> dict[str, TypeKind | None]:
    """The guard kind of every object type of the schema but the roots."""
    return {
        name: schema_module._kind(gql_type)
        for name, gql_type in executable.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not name.startswith("__") and name not in ("Query", "Mutation")
    }


def record_names(executable: GraphQLSchema) -> list[str]:
    return [name for name, kind in kinds(executable).items() if kind is TypeKind.RECORD]


def category_of(gql_field: GraphQLField) -> Any:
    definition = (gql_field.extensions or {}).get("strawberry-definition")
    metadata = getattr(definition, "metadata", None) or {}
    return metadata.get(CATEGORY)


def record_fields(executable: GraphQLSchema) -> list[tuple[str, str, GraphQLField]]:
    found: list[tuple[str, str, GraphQLField]] = []
    for type_name in record_names(executable):
        gql_type = executable.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        found.extend((type_name, name, gql_field) for name, gql_field in gql_type.fields.items())
    return found


# --- every field of a record has exactly one category ----------------------------------------

# The types API.md marks with categories: each must be declared a record, so the walk covers it.
API_RECORD_TYPES = [
    "Family", "Address", "Carer", "Child", "CarerRelationship", "Note", "Affiliation",
    "ChildProtectionPlan", "PersonMatch", "Activity", "ActivitySession", "Attendance", "Contact",
]  # fmt: skip


@pytest.mark.parametrize("type_name", API_RECORD_TYPES, ids=lambda t: f"{t}-is-a-record-type")
def test_types_holding_family_data_are_record_types(executable: GraphQLSchema, type_name: str) -> None:
    assert type_name in record_names(executable)


def test_every_field_of_every_record_type_has_a_category(executable: GraphQLSchema) -> None:
    uncategorised = [
        f"{type_name}.{name}"
        for type_name, name, gql_field in record_fields(executable)
        if not (isinstance(category_of(gql_field), Category) or category_of(gql_field) is INHERITED)
    ]
    assert record_fields(executable), "the walk found no record fields at all"
    assert uncategorised == []


def test_inherited_only_record_types_are_reached_only_through_a_guarded_field(executable: GraphQLSchema) -> None:
    """A type whose fields all inherit their guard (Note, Address, …) must never be returned by a
    query field that is not itself guarded: that path would skip the check. A root-checked type
    (the ContactPoint feed's child) was checked whole by its root field, its address with it."""
    records = set(record_names(executable))
    inherited_only = {
        type_name
        for type_name in records
        if all(category_of(f) is INHERITED for f in executable.type_map[type_name].fields.values())  # type: ignore[attr-defined]
    }
    leaks: list[str] = []
    payloads: list[str] = []
    for type_name, gql_type in executable.type_map.items():
        if type_name.startswith("__") or type_name in records:
            continue
        if not isinstance(gql_type, GraphQLObjectType) or schema_module._kind(gql_type) is TypeKind.ROOT_CHECKED:
            continue
        for name, gql_field in gql_type.fields.items():
            target = gql_field.type
            while hasattr(target, "of_type"):
                target = target.of_type
            if getattr(target, "name", None) not in inherited_only:
                continue
            # a root field (a mutation returning a note) passes the payload guard
            resolve = gql_field.resolve
            guarded = type_name in ("Query", "Mutation") and getattr(resolve, "__name__", "") == "guard_payload"
            (payloads if guarded else leaks).append(f"{type_name}.{name}")
    assert inherited_only, "expected some inherited-only record types (Note, Address, …)"
    assert leaks == []
    assert {"Mutation.addNote", "Mutation.affiliate", "Mutation.startChildProtectionPlan"} <= set(payloads)


# --- the build fails closed --------------------------------------------------------------------


def _attribute_record() -> type:
    @record
    class ThrowawayAttribute:
        categorised: str | None = field(Category.PRIMARY)
        uncategorised: str | None = None

    return ThrowawayAttribute


def _resolver_record() -> type:
    @record
    class ThrowawayResolver:
        categorised: str | None = field(Category.SECONDARY)

        @strawberry.field
        def uncategorised(self) -> str | None:
            return None

    return ThrowawayResolver


@pytest.mark.parametrize(
    "declare",
    [_attribute_record, _resolver_record],
    ids=["uncategorised-attribute-stops-the-build", "uncategorised-resolver-stops-the-build"],
)
def test_a_record_field_without_a_category_stops_the_schema_from_building(declare: Any) -> None:
    throwaway = declare()
    name = throwaway.__strawberry_definition__.name
    with pytest.raises(MissingCategoryError, match=rf"{name}\.uncategorised") as raised:
        build_schema(types=[throwaway])
    assert "field(Category." in str(raised.value), "the error should teach the fix"


def test_every_object_type_says_how_it_is_guarded(executable: GraphQLSchema) -> None:
    unmarked = sorted(name for name, kind in kinds(executable).items() if kind is None)
    assert kinds(executable), "the walk found no object types"
    assert unmarked == []


def _throwaway_schema(returned: type, field_category: Any = None) -> strawberry.Schema:
    """A schema whose Query returns `returned`, straight or through a record field."""
    if field_category is None:

        @strawberry.type
        class Bare:
            throwaway: returned | None = None  # type: ignore[valid-type]

        return strawberry.Schema(query=Bare)

    @record
    class Holder:
        throwaway: returned | None = field(field_category)  # type: ignore[valid-type]

    @strawberry.type
    class Query:
        holder: Holder | None = None

    return strawberry.Schema(query=Query)


def _guard(throwaway_schema: strawberry.Schema) -> int:
    return install_guards(throwaway_schema._schema, schema_module._describe, schema_module._kind)


def test_an_unmarked_object_type_stops_the_build_and_names_the_fix() -> None:
    @strawberry.type
    class Unmarked:
        secret: str | None = None

    with pytest.raises(UnguardedTypeError, match=r"^Unmarked does not say how it is guarded") as raised:
        build_schema(types=[Unmarked])
    assert all(fix in str(raised.value) for fix in ("@record", "@public", "@root_checked"))
    with pytest.raises(UnguardedTypeError, match="Unmarked"):
        _guard(_throwaway_schema(Unmarked))


def test_a_non_null_field_of_a_non_primary_category_stops_the_build_and_teaches_the_fix() -> None:
    @record
    class NonNullSecret:
        name: str = field(Category.PRIMARY)  # primary data is never denied on a record one may read
        ethnicity: str = field(Category.SECONDARY)

    with pytest.raises(
        GuardedFieldRequiresOptionalError, match=r"NonNullSecret\.ethnicity is guarded by SECONDARY"
    ) as raised:
        build_schema(types=[NonNullSecret])
    assert "make it optional (`X | None`" in str(raised.value)


def test_install_guards_names_the_uncategorised_field() -> None:
    @record
    class Throwaway:
        first_name: str | None = field(Category.PRIMARY)
        secret: str | None = None

    with pytest.raises(MissingCategoryError, match=r"Throwaway\.secret"):
        _guard(_throwaway_schema(Throwaway))


def test_a_type_inheriting_its_guard_reached_through_an_unguarded_field_stops_the_build() -> None:
    @record
    class Inheriting:
        text: str | None = field(INHERITED)

    @public
    class Wrapper:
        inner: Inheriting | None = None

    with pytest.raises(UnguardedTypeError, match=r"Inheriting inherits its guard, but Wrapper\.inner"):
        _guard(_throwaway_schema(Wrapper))
    assert _guard(_throwaway_schema(Inheriting, Category.SECONDARY)) == 1  # through a guarded field: fine


def test_a_root_checked_type_returned_by_a_record_field_stops_the_build() -> None:
    @root_checked
    class Administration:
        username: str | None = None

    with pytest.raises(UnguardedTypeError, match=r"Administration is checked by the root fields"):
        _guard(_throwaway_schema(Administration, Category.PRIMARY))
    assert _guard(_throwaway_schema(Administration)) == 0  # from a root field: its resolver checks


def test_the_schema_builds_again_after_the_throwaway_types() -> None:
    build_schema()


# --- the SDL is committed and current ----------------------------------------------------------


def test_schema_graphql_is_the_sdl_of_the_code() -> None:
    assert SDL_FILE.exists(), f"schema.graphql is missing; create it with: {REGENERATE}"
    committed = SDL_FILE.read_text(encoding="utf-8")
    assert committed == printed_sdl(), f"schema.graphql drifted from the code; run: {REGENERATE}"


# --- sensitive fields are nullable -------------------------------------------------------------

SENSITIVE = [
    "Family.generalNote", "Family.notes", "Family.confidentialNotes", "Family.affiliations",
    "Family.warnings", "Family.hardToReachGroups",
    "Carer.ethnicity", "Carer.language", "Carer.notes", "Carer.confidentialNotes",
    "Child.ethnicity", "Child.language", "Child.notes", "Child.confidentialNotes",
    "Child.childProtectionPlan", "Family.contacts", "Carer.attendance", "Child.attendance",
]  # fmt: skip


@pytest.mark.parametrize("path", SENSITIVE, ids=lambda p: f"{p}-is-nullable")
def test_sensitive_field_is_nullable_so_a_denial_nulls_only_itself(executable: GraphQLSchema, path: str) -> None:
    type_name, field_name = path.split(".")
    gql_type = executable.type_map[type_name]
    assert isinstance(gql_type, GraphQLObjectType)
    assert not is_non_null_type(gql_type.fields[field_name].type)


def test_every_field_guarded_by_a_non_primary_category_is_nullable(executable: GraphQLSchema) -> None:
    non_null = [
        f"{type_name}.{name}"
        for type_name, name, gql_field in record_fields(executable)
        if isinstance(category_of(gql_field), Category)
        and category_of(gql_field) not in SHARED_CATEGORIES
        and is_non_null_type(gql_field.type)
    ]
    assert non_null == []


# --- every name of API.md exists ---------------------------------------------------------------
# Written out from ../shared/API.md; None where API.md names a field without giving its type.

API_FIELDS: dict[str, dict[str, str | None]] = {
    "Query": {
        # Round 2: a root field a role may be refused is nullable.
        "me": "User!", "settings": "[Setting!]!", "family": "Family", "families": "FamilyConnection",
        "searchPeople": "[PersonMatch!]", "childProtectionList": "[Child!]",
    },
    "Mutation": {
        "login": "Session!", "logout": "Boolean!", "createSetting": "Setting!", "createUser": "User!",
        "registerFamily": "Family!", "updateFamily": "Family!", "addNote": "Note!", "affiliate": "Affiliation!",
        "revokeAffiliation": "Affiliation!", "startChildProtectionPlan": "ChildProtectionPlan!",
        "endChildProtectionPlan": "ChildProtectionPlan!",
    },
    "Session": {"token": "String!", "expiresAt": "DateTime!", "user": "User!"},
    "User": {"id": "ID!", "username": "String!", "displayName": "String!", "roles": "[RoleAssignment!]!"},
    "RoleAssignment": {"role": "Role!", "setting": "Setting"},
    "Setting": {"id": "ID!", "code": "String!", "name": "String!"},
    "Family": {
        "id": "ID!", "version": "Int!", "registeredSetting": "Setting!", "address": "Address",
        "carers": "[Carer!]!", "children": "[Child!]!", "affiliations": "[Affiliation!]", "generalNote": "String",
        "warnings": "[String!]", "hardToReachGroups": "[String!]", "notes": "[Note!]",
        "confidentialNotes": "[Note!]", "access": "Access!",
    },
    "Access": {"read": "[Category!]!", "write": "[Category!]!"},
    "Address": {"line1": "String", "line2": "String", "town": "String", "postcode": "String"},
    "Carer": {
        "id": None, "firstName": None, "lastName": None, "dateOfBirth": None, "gender": None, "ethnicity": None,
        "language": None, "notes": None, "confidentialNotes": None, "relationships": "[CarerRelationship!]!",
    },
    "Child": {
        "id": None, "firstName": None, "lastName": None, "dateOfBirth": None, "gender": None, "ethnicity": None,
        "language": None, "notes": None, "confidentialNotes": None, "childProtectionPlan": "ChildProtectionPlan",
    },
    "CarerRelationship": {"child": "Child!", "relationship": "Relationship!"},
    "Note": {
        "id": "ID!", "kind": "NoteKind!", "text": "String!", "createdAt": "DateTime!", "authorName": "String!",
        "setting": "Setting!",
    },
    "Affiliation": {
        "id": "ID!", "setting": "Setting!", "consentGivenBy": "String!", "consentDate": "Date!",
        "revokedAt": "DateTime",
    },
    "ChildProtectionPlan": {"id": "ID!", "startDate": "Date!", "endDate": "Date", "category": "CpCategory!"},
    "FamilyConnection": {"nodes": "[Family!]!", "pageInfo": "PageInfo!", "totalCount": "Int!"},
    "PageInfo": {"hasNextPage": "Boolean!", "endCursor": "String"},
    "PersonMatch": {
        "personId": "ID!", "familyId": "ID!", "firstName": "String!", "lastName": "String!", "dateOfBirth": "Date",
        "postcode": "String", "registeredSetting": "Setting!",
    },
    # Activities, sessions, registers, home visits
    "Activity": {
        "id": "ID!", "version": "Int!", "setting": "Setting!", "description": "String!", "provider": "String!",
        "projectLeader": "String!", "frequency": "Frequency!", "outcomeType": "String!", "outcome": "String",
        "accessGroup": "String!", "eventType": "String", "startDate": "Date!", "startTime": "Time!",
        "durationMinutes": "Int!", "aims": "String!", "sessions": "[ActivitySession!]!",
    },
    "ActivitySession": {
        "id": "ID!", "activity": "Activity!", "date": "Date!", "startTime": "Time!", "durationMinutes": "Int!",
        "register": "[Attendance!]!", "registerEnteredAt": "DateTime", "deadline": "Date!", "late": "Boolean!",
    },
    "Attendance": {
        "personId": "ID!", "familyId": "ID!", "firstName": "String", "lastName": "String", "attended": "Boolean!",
        "recordedAt": "DateTime!",
    },
    "Contact": {
        "id": "ID!", "kind": "ContactKind!", "date": "Date!", "durationMinutes": "Int", "worker": "String!",
        "setting": "Setting!", "summary": "String", "peopleSeen": "[ID!]!", "enteredAt": "DateTime!",
        "deadline": "Date!", "late": "Boolean!",
    },
    "ActivityConnection": {"nodes": "[Activity!]!", "pageInfo": "PageInfo!", "totalCount": "Int!"},
}  # fmt: skip
API_FIELDS["Query"].update({"activity": "Activity", "activities": "ActivityConnection"})
API_FIELDS["Mutation"].update({
    "createActivity": "Activity!", "updateActivity": "Activity!", "addSessions": "[ActivitySession!]!",
    "recordAttendance": "ActivitySession!", "recordContact": "Contact!",
})  # fmt: skip
API_FIELDS["Family"]["contacts"] = "[Contact!]"
API_FIELDS["Carer"]["attendance"] = "[Attendance!]"
API_FIELDS["Child"]["attendance"] = "[Attendance!]"

API_ARGUMENTS: dict[str, dict[str, str]] = {
    "Query.family": {"id": "ID!"},
    "Query.families": {"settingId": "ID", "first": "Int", "after": "String"},
    "Query.searchPeople": {"name": "String!", "dateOfBirth": "Date", "postcode": "String"},
    "Query.childProtectionList": {"settingId": "ID!"},
    "Mutation.login": {"username": "String!", "password": "String!"},
    "Mutation.createSetting": {"input": "SettingInput!"},
    "Mutation.createUser": {"input": "UserInput!"},
    "Mutation.registerFamily": {"input": "RegisterFamilyInput!"},
    "Mutation.updateFamily": {"id": "ID!", "expectedVersion": "Int!", "input": "UpdateFamilyInput!"},
    "Mutation.addNote": {"input": "NoteInput!"},
    "Mutation.affiliate": {"input": "AffiliationInput!"},
    "Mutation.revokeAffiliation": {"id": "ID!"},
    "Mutation.startChildProtectionPlan": {"input": "CpPlanInput!"},
    "Mutation.endChildProtectionPlan": {"id": "ID!", "endDate": "Date!"},
    "Query.activity": {"id": "ID!"},
    "Query.activities": {"settingId": "ID", "from": "Date", "to": "Date", "first": "Int", "after": "String"},
    "Mutation.createActivity": {"input": "ActivityInput!"},
    "Mutation.updateActivity": {"id": "ID!", "expectedVersion": "Int!", "input": "ActivityUpdate!"},
    "Mutation.addSessions": {"activityId": "ID!", "dates": "[Date!]!"},
    "Mutation.recordAttendance": {"sessionId": "ID!", "entries": "[AttendanceInput!]!"},
    "Mutation.recordContact": {"input": "ContactInput!"},
    "Carer.attendance": {"from": "Date", "to": "Date"},
    "Child.attendance": {"from": "Date", "to": "Date"},
}

API_INPUTS: dict[str, set[str]] = {
    "SettingInput": {"code", "name"},
    "UserInput": {"username", "displayName", "password", "crbCheckedOn", "dataProtectionTrainedOn", "roles"},
    "RoleInput": {"role", "settingId"},
    "RegisterFamilyInput": {
        "settingId", "source", "receivedOn", "consentToContact", "address", "carers", "children", "generalNote",
    },
    "CarerInput": {"firstName", "lastName", "dateOfBirth", "gender", "ethnicity", "language", "relationshipToChildren"},
    "ChildInput": {"firstName", "lastName", "dateOfBirth", "gender", "ethnicity", "language"},
    "AddressInput": {"line1", "line2", "town", "postcode"},
    "UpdateFamilyInput": {"address", "generalNote"},
    "NoteInput": {"subjectId", "kind", "text"},
    "AffiliationInput": {"familyId", "settingId", "consentGivenBy", "consentDate"},
    "CpPlanInput": {"childId", "startDate", "category"},
    "ActivityInput": {
        "settingId", "description", "provider", "projectLeader", "frequency", "outcomeType", "outcome", "accessGroup",
        "eventType", "startDate", "startTime", "durationMinutes", "aims",
    },
    "ActivityUpdate": {
        "description", "provider", "projectLeader", "frequency", "outcomeType", "outcome", "accessGroup",
        "eventType", "startDate", "startTime", "durationMinutes", "aims",
    },
    "AttendanceInput": {"personId", "attended"},
    "ContactInput": {"familyId", "kind", "date", "durationMinutes", "summary", "peopleSeen"},
}  # fmt: skip

API_ENUMS: dict[str, set[str]] = {
    "Role": {
        "SENIOR_MANAGEMENT", "HEAD_OF_CENTRE", "MANAGER", "SENIOR_ADMINISTRATOR", "PARENT_SUPPORT_WORKER",
        "ADMIN_OFFICER", "SYSTEM_ADMINISTRATOR", "CONTACTPOINT_FEED", "LA_REPORTING",
    },
    "Category": {
        "PRIMARY", "SECONDARY", "CONFIDENTIAL", "CP_PLAN", "ACTIVITY", "REPORTING", "USER_ADMIN", "LOOKUPS_ADMIN",
        "AUDIT", "CONTACTPOINT",
    },
    "Gender": {"FEMALE", "MALE", "OTHER", "NOT_KNOWN"},
    "Relationship": {
        "MOTHER", "FATHER", "STEP_PARENT", "GRANDPARENT", "FOSTER_CARER", "GUARDIAN", "OTHER_RELATIVE", "OTHER",
    },
    "CpCategory": {"NEGLECT", "PHYSICAL_ABUSE", "EMOTIONAL_ABUSE", "SEXUAL_ABUSE", "MULTIPLE"},
    "FormSource": {"INITIAL_CONTACT", "REFERRAL"},
    "NoteKind": {"HISTORY", "CONFIDENTIAL"},
    "Frequency": {"ONCE", "WEEKLY", "FORTNIGHTLY", "MONTHLY", "TERMLY", "IRREGULAR"},
    "ContactKind": {"HOME_VISIT", "PHONE", "CENTRE", "OUTREACH", "OTHER"},
}  # fmt: skip


@pytest.mark.parametrize("type_name", API_FIELDS, ids=lambda t: f"{t}-has-the-fields-of-API.md")
def test_api_type_has_its_fields_with_their_types(executable: GraphQLSchema, type_name: str) -> None:
    gql_type = executable.type_map.get(type_name)
    assert isinstance(gql_type, GraphQLObjectType), f"type {type_name} is missing"
    missing = sorted(set(API_FIELDS[type_name]) - set(gql_type.fields))
    assert missing == []
    retyped = {
        name: str(gql_type.fields[name].type)
        for name, expected in API_FIELDS[type_name].items()
        if expected is not None and str(gql_type.fields[name].type) != expected
    }
    assert retyped == {}, f"types differ from API.md: {retyped}"


@pytest.mark.parametrize("path", API_ARGUMENTS, ids=lambda p: f"{p}-takes-the-arguments-of-API.md")
def test_api_field_takes_its_arguments_with_their_types(executable: GraphQLSchema, path: str) -> None:
    type_name, field_name = path.split(".")
    arguments = executable.type_map[type_name].fields[field_name].args  # type: ignore[attr-defined]
    actual = {name: str(argument.type) for name, argument in arguments.items()}
    assert actual == API_ARGUMENTS[path]


def test_families_pages_fifty_by_default(executable: GraphQLSchema) -> None:
    families = executable.type_map["Query"].fields["families"]  # type: ignore[attr-defined]
    assert families.args["first"].default_value == 50


@pytest.mark.parametrize("type_name", API_INPUTS, ids=lambda t: f"{t}-has-the-fields-of-API.md")
def test_api_input_has_its_fields(executable: GraphQLSchema, type_name: str) -> None:
    gql_type = executable.type_map.get(type_name)
    assert isinstance(gql_type, GraphQLInputObjectType), f"input {type_name} is missing"
    assert sorted(API_INPUTS[type_name] - set(gql_type.fields)) == []


@pytest.mark.parametrize("enum_name", API_ENUMS, ids=lambda e: f"enum-{e}-has-the-values-of-API.md")
def test_api_enum_has_its_values(executable: GraphQLSchema, enum_name: str) -> None:
    gql_type = executable.type_map.get(enum_name)
    assert isinstance(gql_type, GraphQLEnumType), f"enum {enum_name} is missing"
    assert sorted(API_ENUMS[enum_name] - set(gql_type.values)) == []


def test_input_fields_of_enum_type_use_the_api_enums(executable: GraphQLSchema) -> None:
    expected = {
        ("RegisterFamilyInput", "source"): "FormSource!",
        ("CarerInput", "relationshipToChildren"): "Relationship",
        ("NoteInput", "kind"): "NoteKind!",
        ("CpPlanInput", "category"): "CpCategory!",
        ("RoleInput", "role"): "Role!",
    }
    actual = {key: str(executable.type_map[key[0]].fields[key[1]].type) for key in expected}  # type: ignore[attr-defined]
    assert actual == expected
