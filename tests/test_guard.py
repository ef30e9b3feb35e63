"""A field's category is declared once, beside the field: history entries and write checks read
that declaration. A mutation's payload passes the same guard as a query's field: it returns
only what the caller may read."""

import ast
from pathlib import Path
from typing import Any

import pytest
import strawberry

import schema as schema_module
from authz.categories import FAMILY_CATEGORIES, INHERITED, Category
from authz.fields import UndeclaredFieldError, category_of
from authz.grants import Access
from authz.guard import Payload, install_guards
from resolvers.form import kind_category
from resolvers.history import FAMILY_FIELDS, PERSON_FIELDS, FieldMap, field_category
from resolvers.note import KIND_FIELDS
from resolvers.subject import GENERAL_NOTE, LIST_FIELDS, SUBJECTS
from resolvers.working_days import Deadline
from schema.fields import field, record
from tests.conftest import Api, World
from tests.factories import Centre, audit_events_since, fresh_centre, fresh_user, last_audit_id

ROOT = Path(__file__).resolve().parent.parent

# --- one declaration per category: history and write paths name fields, never categories -------

AUDITED: list[tuple[str, FieldMap]] = [("Family", FAMILY_FIELDS), ("Carer", PERSON_FIELDS), ("Child", PERSON_FIELDS)]


@pytest.mark.parametrize(("record_type", "fields"), AUDITED, ids=[t for t, _ in AUDITED])
def test_every_history_entry_is_filed_under_the_category_its_field_declares(record_type: str, fields: FieldMap) -> None:
    """A column names the record field whose category it is audited and written under; one
    that names no field with a category of its own fails here (UndeclaredFieldError)."""
    for column in fields:
        assert isinstance(field_category(record_type, fields, column), Category)


def _named_fields() -> list[tuple[str, str, str]]:
    """(file, type, field) of every `category_of("Type", "field")` outside authz/ and schema/;
    both branches of a conditional field name count. resolvers/history.py's field_category,
    which reads the FieldMaps, is checked map by map above; resolvers/subject.py's, which names
    the field of a family, carer or child alike, and resolvers/form.py's, which names the field
    each kind of form carries, field by field below."""
    found: list[tuple[str, str, str]] = []
    for package in ("resolvers", "auth", "demo", "web"):
        for path in sorted((ROOT / package).glob("*.py")):
            if path.relative_to(ROOT).as_posix() in (
                "resolvers/history.py",
                "resolvers/subject.py",
                "resolvers/form.py",
            ):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "category_of"):
                    continue
                type_name, field_name = node.args
                assert isinstance(type_name, ast.Constant), f"{path.name}: name the type literally"
                names = [n.value for n in ast.walk(field_name) if isinstance(n, ast.Constant)]
                assert names, f"{path.name}: name the field literally"
                found.extend((path.name, str(type_name.value), str(name)) for name in names)
    return found


def test_every_field_a_write_path_names_declares_a_category() -> None:
    named = _named_fields()
    assert {
        ("family.py", "Family", "address"),
        ("family.py", "Family", "general_note"),
        ("affiliation.py", "Family", "affiliations"),
        ("cp_plan.py", "Child", "child_protection_plan"),
    } <= set(named)
    undeclared = []
    for file, type_name, field_name in named:
        try:
            category_of(type_name, field_name)
        except UndeclaredFieldError:
            undeclared.append(f"{file}: {type_name}.{field_name}")
    assert undeclared == []


@pytest.mark.parametrize("subject_type", list(SUBJECTS))
def test_every_field_a_subject_or_note_write_names_declares_a_category(subject_type: str) -> None:
    """setWarnings & co., setGeneralNote and addNote write a field of a family, carer or child:
    the right they need, and the category they are audited under, are that field's."""
    fields = [record_field for _, record_field in LIST_FIELDS.values()] + [GENERAL_NOTE, *KIND_FIELDS.values()]
    assert {field: category_of(subject_type, field) for field in fields} == {
        "warnings": Category.SECONDARY,
        "hard_to_reach_groups": Category.SECONDARY,
        "indicators": Category.SECONDARY,
        "general_note": Category.SECONDARY,
        "notes": Category.SECONDARY,
        "confidential_notes": Category.CONFIDENTIAL,
    }


def test_each_kind_of_form_is_logged_and_entered_under_the_category_of_the_data_it_carries() -> None:
    """logFormReceived and enterLoggedItem need WRITE on the category the field that reads the
    item's content declares; a notice of change, on the category it is named for."""
    assert {kind: kind_category(kind) for kind in Deadline} == {
        Deadline.INITIAL_CONTACT: Category.PRIMARY,
        Deadline.PRIMARY_CHANGE: Category.PRIMARY,
        Deadline.REFERRAL: Category.SECONDARY,
        Deadline.SECONDARY_CHANGE: Category.SECONDARY,
        Deadline.REGISTER: Category.SECONDARY,
        Deadline.HOME_VISIT: Category.SECONDARY,
    }


@pytest.mark.parametrize("module", ["subject.py", "note.py", "affiliation.py", "cp_plan.py"])
def test_a_write_path_names_the_field_it_writes_never_its_category(module: str) -> None:
    """A family-data category written out in one of these write paths would restate what the
    field it writes declares (STYLE.md 5): they name the field and read its category."""
    tree = ast.parse((ROOT / "resolvers" / module).read_text(encoding="utf-8"))
    restated = [
        f"line {node.lineno}: Category.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and getattr(node.value, "id", None) == "Category"
        and node.attr in {category.name for category in FAMILY_CATEGORIES}
    ]
    assert restated == []


def test_a_field_with_no_category_of_its_own_is_refused_by_name() -> None:
    with pytest.raises(UndeclaredFieldError, match=r"Note\.text declares no data category \(it inherits"):
        category_of("Note", "text")
    with pytest.raises(UndeclaredFieldError, match=r"Family\.shoe_size declares no data category"):
        category_of("Family", "shoe_size")
    with pytest.raises(UndeclaredFieldError):
        field_category("Family", {"shoe_size": ("shoeSize", "shoe_size")}, "shoe_size")


# --- the payload guard, on its own ----------------------------------------------------------------

SECONDARY_READ = Access(read=frozenset([Category.SECONDARY]), write=frozenset([Category.SECONDARY]))
WRITE_ONLY = Access(read=frozenset(), write=frozenset([Category.SECONDARY]))


@record
class Echo:
    text: str = field(INHERITED)


@strawberry.type
class EchoQuery:
    ping: str = "pong"


@strawberry.type
class EchoMutation:
    @strawberry.mutation
    async def readable(self) -> Echo:
        return Payload(Echo(text="kept"), Category.SECONDARY, SECONDARY_READ)  # type: ignore[call-arg,return-value]

    @strawberry.mutation
    async def write_only(self) -> Echo:
        return Payload(Echo(text="leaked"), Category.SECONDARY, WRITE_ONLY)  # type: ignore[call-arg,return-value]

    @strawberry.mutation
    def bare(self) -> Echo:
        return Echo(text="unguarded")  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def echo_schema() -> strawberry.Schema:
    built = strawberry.Schema(query=EchoQuery, mutation=EchoMutation)
    assert install_guards(built._schema, schema_module._describe, schema_module._kind) == 3
    return built


async def test_a_mutation_payload_the_caller_may_read_is_returned(echo_schema: strawberry.Schema) -> None:
    result = await echo_schema.execute("mutation { readable { text } }")
    assert result.errors is None and result.data == {"readable": {"text": "kept"}}


async def test_a_mutation_payload_the_caller_may_not_read_is_withheld(echo_schema: strawberry.Schema) -> None:
    result = await echo_schema.execute("mutation { writeOnly { text } }")
    assert result.data is None and result.errors is not None
    assert [error.original_error.extensions for error in result.errors] == [  # type: ignore[union-attr]
        {"code": "FORBIDDEN", "category": "SECONDARY"}
    ]


async def test_a_mutation_returning_a_bare_record_fails_closed(echo_schema: strawberry.Schema) -> None:
    result = await echo_schema.execute("mutation { bare { text } }")
    assert result.data is None and result.errors is not None
    assert "must return an authz.guard.Payload" in result.errors[0].message


# --- the service: mutation payloads pass the guard queries pass ---------------------------------

UPDATE = """mutation($id: ID!, $v: Int!, $input: UpdateFamilyInput!) {
  updateFamily(id: $id, expectedVersion: $v, input: $input) {
    address { postcode } generalNote confidentialNotes { text } children { childProtectionPlan { id } } } }"""
ADD_NOTE = "mutation($input: NoteInput!) { addNote(input: $input) { text } }"


def denials(body: dict[str, Any]) -> list[tuple[list[Any], str, str]]:
    return sorted(
        (e["path"], e["extensions"]["code"], e["extensions"].get("category", "")) for e in body.get("errors") or []
    )


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def test_a_family_returned_by_a_mutation_shows_only_what_the_writer_may_read(api: Api, centre: Centre) -> None:
    """A head of centre may update the address, and read secondary data, but not confidential
    notes or plans: the Family updateFamily returns is guarded field by field, as a query's."""
    family = await centre.family(api)
    variables = {"id": family.id, "v": family.version, "input": {"address": {"postcode": "WF2 2BB"}}}
    body = await api.post(UPDATE, variables, centre.head_of_centre)
    returned = body["data"]["updateFamily"]
    assert returned["address"] == {"postcode": "WF2 2BB"} and returned["generalNote"] is not None
    assert returned["confidentialNotes"] is None and returned["children"] == [{"childProtectionPlan": None}]
    assert denials(body) == [
        (["updateFamily", "children", 0, "childProtectionPlan"], "FORBIDDEN", "CP_PLAN"),
        (["updateFamily", "confidentialNotes"], "FORBIDDEN", "CONFIDENTIAL"),
    ]


async def test_a_note_written_without_the_right_to_read_it_is_not_echoed(
    app: Any, api: Api, world: World, centre: Centre
) -> None:
    """No role of the default policy may write a category it may not read; under a policy that
    lets admin officers write confidential notes they may not read, the note is written but
    addNote does not echo it back."""
    family = await centre.family(api)
    officer = await fresh_user(api, world, "ADMIN_OFFICER", centre.setting_id)
    history = {"subjectId": family.id, "kind": "HISTORY", "text": "Seen at stay and play"}
    assert (await api.ok(ADD_NOTE, {"input": history}, officer))["addNote"] == {"text": "Seen at stay and play"}
    secret = {"subjectId": family.id, "kind": "CONFIDENTIAL", "text": "Written, never shown to its writer"}
    since = await last_audit_id(app)
    decisions = app.state.decisions
    decisions._enforcer.add_policy("admin_officer", "held", "confidential", "write")
    decisions._memo.clear()
    decisions.generation += 1
    try:
        body = await api.post(ADD_NOTE, {"input": secret}, officer)
    finally:
        decisions.reload()  # the policy of authz/policy.csv again
    assert body["data"] is None
    assert denials(body) == [(["addNote"], "FORBIDDEN", "CONFIDENTIAL")]
    notes = await api.ok("query($id: ID!) { family(id: $id) { confidentialNotes { text } } }", {"id": family.id},
                         centre.manager)  # fmt: skip
    assert {"text": secret["text"]} in notes["family"]["confidentialNotes"]
    actions = [event.action for event in await audit_events_since(app, since)]
    assert "note.add" in actions and "mutation.denied" not in actions  # the write stands; only its echo is withheld
