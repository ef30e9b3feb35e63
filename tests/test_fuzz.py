"""A bounded fuzz run of the schema (issue 5): schemathesis generates GraphQL documents from the
SDL, and each is sent as anonymous and as one user per role, over the production transport
(a JSON POST through the ASGI app), to a database of this module's own.

Every answer must be free of 5xx statuses, tracebacks, source paths and `INTERNAL` errors;
every error carries a code of API.md's vocabulary; an anonymous caller gets data for `login`
and nothing else; and no caller ever receives a value outside their rights. The last is judged
from the expected matrix (tests/matrix.py), not from the policy: the world's four families
(own, other, affiliated, revoked; tests/conftest.py) carry a marker string per category, and
a marker may appear only in the answers of callers allowed to read that category of that
family. Child protection plans have no free text, so their ids are the markers, and are never
offered to the fuzzer as arguments (an argument is not a leak).

Generation is derandomized: every run of the same code sends the same documents. (Hypothesis
also draws constants from the project's loaded modules, so running this module alone sends a
few documents that the whole suite does not; each failure prints its document.) Generated
mutations write to this module's database only; they never reach the session's shared world.
"""

import asyncio
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from graphql import (
    ArgumentNode,
    FieldNode,
    IntValueNode,
    ObjectFieldNode,
    StringValueNode,
    ValueNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.graphql import nodes
from sqlalchemy.engine import make_url

from config import AppConfig
from models.migrate import upgrade
from schema import build_schema
from server import create_app
from tests.assertions import codes
from tests.conftest import ADD_NOTE, ALL_ROLES, Api, World, _admin_execute, build_world, create_user
from tests.matrix import CATEGORIES, CONFIDENTIAL, CP_PLAN, NONE, PRIMARY, SCOPES, SECONDARY, allows, reach

ANONYMOUS = "ANONYMOUS"
CALLERS = [ANONYMOUS, *ALL_ROLES]

# Documents per caller and kind in CI (the module takes ~11 s on SQLite, ~13 s on PostgreSQL);
# ESTART_FUZZ_EXAMPLES=1000 runs a deeper search locally, the same way.
QUERY_EXAMPLES = int(os.environ.get("ESTART_FUZZ_EXAMPLES", 60))
MUTATION_EXAMPLES = int(os.environ.get("ESTART_FUZZ_EXAMPLES", 40))
FUZZ = settings(
    derandomize=True,  # the same documents on every run: CI stays reproducible
    database=None,  # and no example database replaying old failures
    deadline=None,  # requests to a real database; their duration is not under test
)

SCHEMA = schemathesis.graphql.from_file(build_schema().as_str(), config=SchemathesisConfig())
# Every root field, and a family by id or the list of families in two draws out of three: the
# records are where the rights are, and where a leak would be.
QUERIES = st.one_of(
    SCHEMA["Query"].as_strategy(), SCHEMA["Query"]["family"].as_strategy(), SCHEMA["Query"]["families"].as_strategy()
)
# `login` fails (or throttles) with any generated password, and `logout` would end the
# caller's session for the rest of the run; both are fuzzed anonymously.
CALLER_MUTATIONS = [operation for name, operation in SCHEMA["Mutation"].items() if name not in ("login", "logout")]
# Documents that break the schema's types (a missing argument, a string for a number) go
# through validation only: one draw in four.
MUTATIONS = st.one_of(
    *[operation.as_strategy() for operation in CALLER_MUTATIONS] * 3,
    *[operation.as_strategy(generation_mode=GenerationMode.NEGATIVE) for operation in CALLER_MUTATIONS],
)
ANONYMOUS_MUTATIONS = st.one_of(
    SCHEMA["Mutation"].as_strategy(), SCHEMA["Mutation"].as_strategy(generation_mode=GenerationMode.NEGATIVE)
)

CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "QUERY_TOO_COMPLEX"}
ROOT = str(Path(__file__).resolve().parent.parent)
LEAKS_OF_CODE = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+|"
    + "|".join(re.escape(path) for path in {ROOT, sys.prefix, sys.base_prefix})
)

# Fields of Family, Carer and Child (no other type has them) and their category (DESIGN.md).
FIELD_CATEGORIES = {
    "address": PRIMARY,
    "firstName": PRIMARY,  # PersonMatch (searchPeople) too: primary as well
    "lastName": PRIMARY,
    "dateOfBirth": PRIMARY,
    "gender": PRIMARY,
    "generalNote": SECONDARY,
    "ethnicity": SECONDARY,
    "language": SECONDARY,
    "notes": SECONDARY,
    "warnings": SECONDARY,
    "hardToReachGroups": SECONDARY,
    "indicators": SECONDARY,
    "forms": SECONDARY,
    "affiliations": SECONDARY,
    "confidentialNotes": CONFIDENTIAL,
    "childProtectionPlan": CP_PLAN,
    "childProtectionPlans": CP_PLAN,
}


@dataclass
class Leak:
    marker: str
    category: str
    scope: str


@dataclass
class FuzzWorld:
    client: httpx.AsyncClient
    world: World
    leaks: list[Leak]  # marker strings, each readable only by those allowed its category and scope
    scopes: dict[str, str]  # family, carer and child ids -> the family of the scope grid
    children: dict[str, str]  # child ids -> their family
    ids: dict[str, list[str]]  # the world's records by kind (no plans: their ids are markers)


@pytest.fixture(scope="module")
def fuzz_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this module's own, on the server the run uses: what the fuzzer writes
    stays here."""
    requested = os.environ.get("ESTART_TEST_DATABASE_URL")
    if not requested:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'estart-fuzz.db'}"
        upgrade(url)
        yield url
        return
    server = make_url(requested).render_as_string(hide_password=False)
    name = f"estart_fuzz_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_execute(server, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(requested).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def mark(api: Api, token: str, world: World, name: str) -> list[Leak]:
    """Puts the family's markers in every place its categories are kept."""
    family = world.families[name]
    primary, secondary, confidential = (f"FUZZ-SECRET-{category}-{name.upper()}" for category in CATEGORIES[:3])
    version = (await api.ok("query($id: ID!) { family(id: $id) { version } }", {"id": family.id}, token))["family"]
    await api.ok(
        """mutation($id: ID!, $v: Int!, $line1: String!) { updateFamily(id: $id, expectedVersion: $v,
             input: {address: {line1: $line1, town: "Wakefield"}}) { id } }""",
        {"id": family.id, "v": version["version"], "line1": primary},
        token,
    )
    for subject in (family.id, family.carer_id, family.child_id):
        await api.ok(
            "mutation($id: ID!, $text: String) { setGeneralNote(subjectId: $id, text: $text) }",
            {"id": subject, "text": secondary},
            token,
        )
        for kind, text in (("HISTORY", secondary), ("CONFIDENTIAL", confidential)):
            await api.ok(ADD_NOTE, {"input": {"subjectId": subject, "kind": kind, "text": text}}, token)
    assert family.plan_id is not None
    return [
        Leak(primary, PRIMARY, name),
        Leak(secondary, SECONDARY, name),
        Leak(confidential, CONFIDENTIAL, name),
        Leak(family.plan_id, CP_PLAN, name),
    ]


# Words the world is made of, so that generated names, codes and searches sometimes match
# (never a marker: a marker in an argument could come back in an answer, and is no leak).
WORDS = ["Own", "Other", "Affiliated", "Revoked", "Alex", "Sam", "WF1 1AA", "Wakefield", "WBRI", "ENG", "CCA", "A"]


def register_scalars(ids: list[str]) -> None:
    """Values the fuzzer draws for IDs, strings, integers and dates: useful ones (the world's
    records and words, recent dates, small numbers) mixed with arbitrary ones. Hypothesis leans
    to the simplest value (0, "", the first choice), which this API mostly refuses, so the
    useful values come first."""
    texts = st.one_of(st.sampled_from(WORDS), st.text(st.characters(codec="utf-8"), max_size=40))
    integers = st.one_of(st.integers(1, 50), st.integers(-(2**31), 2**31 - 1))
    dates = st.one_of(st.dates(date(2024, 1, 1), date(2027, 12, 31)), st.dates())
    arbitrary = st.one_of(texts.map(nodes.String), integers.map(nodes.Int))
    schemathesis.graphql.scalar("ID", st.one_of(st.sampled_from(ids).map(nodes.String), arbitrary))
    schemathesis.graphql.scalar("String", texts.map(nodes.String))
    schemathesis.graphql.scalar("Int", integers.map(nodes.Int))
    schemathesis.graphql.scalar("Date", dates.map(str).map(nodes.String))


# The kind of record an ID argument (or input field) names: (field, argument) or the name alone.
ID_KINDS: dict[Any, str] = {
    ("family", "id"): "families",
    ("updateFamily", "id"): "families",
    "familyId": "families",
    "settingId": "settings",
    "subjectId": "subjects",
    "childId": "children",
    ("revokeAffiliation", "id"): "affiliations",
    ("deactivateUser", "id"): "users",
    "userId": "users",
}


class WorldIds(Visitor):
    """Puts an id of the world's records of the kind the argument names in an ID argument, in a
    third of them or more: the scalar strategy cannot know which kind an argument wants."""

    def __init__(self, draw: Any, ids: dict[str, list[str]]) -> None:
        super().__init__()
        self.draw, self.ids, self.fields = draw, ids, [""]

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, *_: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
        name = node.name.value
        kind = ID_KINDS.get((self.fields[-1], name), ID_KINDS.get(name))
        value = self.world_id(node.value, kind)
        return None if value is None else ArgumentNode(name=node.name, value=value)

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> ObjectFieldNode | None:
        value = self.world_id(node.value, ID_KINDS.get(node.name.value))
        return None if value is None else ObjectFieldNode(name=node.name, value=value)

    def world_id(self, value: ValueNode, kind: str | None) -> StringValueNode | None:
        # 0, Hypothesis' favourite, means a world id: a generated one rarely names anything.
        if kind is None or not isinstance(value, StringValueNode | IntValueNode) or self.draw(st.integers(0, 2)):
            return None
        return StringValueNode(value=self.draw(st.sampled_from(self.ids[kind])))


def with_world_ids(document: str, draw: Any, ids: dict[str, list[str]]) -> str:
    return print_ast(visit(parse(document), WorldIds(draw, ids)))


@pytest.fixture(scope="module")
async def fuzz(fuzz_database_url: str, config: AppConfig) -> AsyncIterator[FuzzWorld]:
    """The app on the module's database, the world of tests/conftest.py with its markers, and
    the ids the fuzzer draws from."""
    fuzz_config = AppConfig(
        database_url=fuzz_database_url,
        allowed_hosts=config.allowed_hosts,
        login_delay_seconds=config.login_delay_seconds,
        login_delay_max_seconds=config.login_delay_max_seconds,
        limits=config.limits,
        rate_limit_per_token=config.rate_limit_per_token,
        rate_limit_per_address=config.rate_limit_per_address,
    )
    app = create_app(fuzz_config)
    # An exception escaping the app is answered 500, as a server would, and judged as such.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = Api(client)
        world = await build_world(api, fuzz_config)
        leaks = await mark(api, world.tokens["MANAGER"], world, "own")
        for name in ("other", "affiliated", "revoked"):
            leaks += await mark(api, world.manager_b, world, name)
        # A user the administrator's generated mutations may deactivate or reset: never a caller.
        bystander = await create_user(
            api, world.admin_token, "bystander", [{"role": "MANAGER", "settingId": world.settings["C"]}]
        )
        bystander_id = (await api.ok("{ me { id } }", token=bystander))["me"]["id"]
        scopes = {
            record: name
            for name, family in world.families.items()
            for record in (family.id, family.carer_id, family.child_id)
        }
        children = {family.child_id: name for name, family in world.families.items()}
        ids = {
            "families": [family.id for family in world.families.values()],
            "settings": list(world.settings.values()),
            "subjects": list(scopes),
            "children": list(children),
            "affiliations": [family.affiliation_id for family in world.families.values() if family.affiliation_id],
            "users": [bystander_id],
        }
        register_scalars([record for group in ids.values() for record in group])
        yield FuzzWorld(client, world, leaks, scopes, children, ids)
    await app.state.engine.dispose()


def may_read(caller: str, category: str, scope: str | None) -> bool:
    """Whether the caller may read `category` of the family `scope` (None: a record of unknown
    family, such as one a generated mutation created; then any reach at all will do)."""
    if caller == ANONYMOUS:
        return False
    if category not in CATEGORIES:
        return True
    if scope is None:
        return reach(caller, category, "read") != NONE
    return allows(caller, category, "read", scope)


def unreadable_values(caller: str, value: Any, scopes: dict[str, str], scope: str | None = None) -> Iterator[str]:
    """Values in `data` the caller may not read, judged field by field: each object
    of the world's families is attributed to its family by its id (or its parent's)."""
    if isinstance(value, list):
        for item in value:
            yield from unreadable_values(caller, item, scopes, scope)
        return
    if not isinstance(value, dict):
        return
    record = value.get("id")
    scope = scopes.get(record, scope) if isinstance(record, str) else scope
    # A history entry names its category (a plan's category is a CpCategory, never one of these).
    if value.get("category") in CATEGORIES and not may_read(caller, value["category"], scope):
        yield f"history entry of {scope or 'a family'}: {value!r}"[:300]
    for key, inner in value.items():
        category = FIELD_CATEGORIES.get(key)
        if category is not None and inner is not None and not may_read(caller, category, scope):
            yield f"{key} ({category}) of {scope or 'a family'}: {inner!r}"[:300]
        yield from unreadable_values(caller, inner, scopes, scope)


def protection_list_problems(caller: str, data: dict[str, Any], fuzz: FuzzWorld) -> Iterator[str]:
    """`childProtectionList` names only children whose plans the caller may read."""
    listed = data.get("childProtectionList")
    if not listed:
        return
    allowed = {child for child, name in fuzz.children.items() if may_read(caller, CP_PLAN, name)}
    if not any(may_read(caller, CP_PLAN, name) for name in SCOPES):
        yield f"childProtectionList listed {len(listed)} children to a caller without CP_PLAN rights"
    for child in listed:
        if isinstance(child, dict) and child.get("id") in fuzz.children and child["id"] not in allowed:
            yield f"childProtectionList listed the child of {fuzz.children[child['id']]}"


def judge(caller: str, document: str, response: httpx.Response, fuzz: FuzzWorld) -> None:
    """Every rule of the fuzz run, for one answer; the message carries what is needed to replay it."""
    context = f"\ncaller: {caller}\ndocument:\n{document}\nstatus: {response.status_code}\nbody: {response.text[:2000]}"
    assert response.status_code < 500, f"server error{context}"
    assert not LEAKS_OF_CODE.search(response.text), f"traceback or source path in the answer{context}"
    assert "Did you mean" not in response.text, f"a suggestion describes the schema{context}"
    body = response.json()
    assert isinstance(body, dict), f"not a GraphQL response{context}"
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL", f"unexpected failure (INTERNAL){context}"
        assert code in CODES, f"error without a code of API.md: {error}{context}"
        if code == "FORBIDDEN":
            assert error["extensions"].get("category"), f"FORBIDDEN without its category: {error}{context}"
    data = body.get("data")
    if caller == ANONYMOUS:
        assert not data or set(data) <= {"login"}, f"anonymous caller got data{context}"
    for leak in fuzz.leaks:
        if not may_read(caller, leak.category, leak.scope):
            assert leak.marker not in response.text, f"{leak.category} data of {leak.scope} leaked{context}"
    if isinstance(data, dict):
        problems = [*unreadable_values(caller, data, fuzz.scopes), *protection_list_problems(caller, data, fuzz)]
        assert not problems, f"values outside the caller's rights: {problems}{context}"


async def send(fuzz: FuzzWorld, caller: str, document: str) -> httpx.Response:
    token = None if caller == ANONYMOUS else fuzz.world.tokens[caller]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await fuzz.client.post("/graphql", json={"query": document}, headers=headers)


async def fuzz_once(fuzz: FuzzWorld, caller: str, case: Any, data: st.DataObject) -> None:
    document = with_world_ids(case.body, data.draw, fuzz.ids)
    judge(caller, document, await send(fuzz, caller, document), fuzz)


@pytest.mark.parametrize("caller", CALLERS)
@settings(FUZZ, max_examples=QUERY_EXAMPLES)
@given(case=QUERIES, data=st.data())
async def test_generated_queries_answer_within_the_callers_rights(
    fuzz: FuzzWorld, caller: str, case: Any, data: st.DataObject
) -> None:
    await fuzz_once(fuzz, caller, case, data)


@pytest.mark.parametrize("caller", ALL_ROLES)
@settings(FUZZ, max_examples=MUTATION_EXAMPLES)
@given(case=MUTATIONS, data=st.data())
async def test_generated_mutations_fail_only_with_coded_errors(
    fuzz: FuzzWorld, caller: str, case: Any, data: st.DataObject
) -> None:
    await fuzz_once(fuzz, caller, case, data)


@settings(FUZZ, max_examples=MUTATION_EXAMPLES)
@given(case=ANONYMOUS_MUTATIONS, data=st.data())
async def test_generated_mutations_by_anonymous_callers_may_only_log_in(
    fuzz: FuzzWorld, case: Any, data: st.DataObject
) -> None:
    await fuzz_once(fuzz, ANONYMOUS, case, data)


# What the fuzz run has found, kept as the smallest documents that show it. U+0000 (found
# with ESTART_FUZZ_EXAMPLES=600): PostgreSQL refuses it in text, and where an argument reached
# SQL unchecked the answer was INTERNAL there. Now every string input is checked for it before
# any resolver runs (schema/limits.py): BAD_USER_INPUT on both databases.
FOUND = {
    "setWarnings": ("ADMIN_OFFICER", 'mutation { setWarnings(subjectId: "OWN_FAMILY", codes: ["\\u0000"]) }'),
    "setHardToReachGroups": (
        "ADMIN_OFFICER",
        'mutation { setHardToReachGroups(subjectId: "OWN_FAMILY", codes: ["\\u0000"]) }',
    ),
    "setIndicators": ("ADMIN_OFFICER", 'mutation { setIndicators(subjectId: "OWN_FAMILY", codes: ["\\u0000"]) }'),
    "searchPeople": ("HEAD_OF_CENTRE", '{ searchPeople(name: "a\\u0000") { firstName } }'),
    "registerFamily": (
        "MANAGER",
        'mutation { registerFamily(input: {settingId: "SETTING_A", source: INITIAL_CONTACT, receivedOn: "2026-11-02",'
        ' carers: [{firstName: "Ann", lastName: "Lee", ethnicity: "\\u0000"}]}) { id } }',
    ),
    "updateLookupValue": (
        "SYSTEM_ADMINISTRATOR",
        'mutation { updateLookupValue(input: {list: WARNING, code: "\\u0000", active: false}) { code } }',
    ),
}


@pytest.mark.parametrize(
    ("caller", "document"),
    [pytest.param(*case, id=name) for name, case in FOUND.items()],
)
async def test_what_the_fuzz_run_found(fuzz: FuzzWorld, caller: str, document: str) -> None:
    document = document.replace("OWN_FAMILY", fuzz.world.families["own"].id)
    document = document.replace("SETTING_A", fuzz.world.settings["A"])
    body = await send(fuzz, caller, document)
    judge(caller, document, body, fuzz)
    assert codes(body.json()) == ["BAD_USER_INPUT"]
