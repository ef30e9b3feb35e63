"""What an attacker's first probes get (security catalogue AZ-18, AZ-19, DOS-07): a malformed
request envelope or variable value is BAD_USER_INPUT, never a 500 or INTERNAL, and logs no
traceback; an anonymous caller learns no schema name from validation messages, however the
login document is dressed up."""

import base64
import logging
from typing import Any

import pytest

from resolvers.ids import decode_id, encode_id
from tests.assertions import codes
from tests.conftest import REGISTER, Api, World

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"


@pytest.mark.parametrize(
    "body",
    [b'"x"', b"1", b"null", b"true", b"{}", b'{"query": 5}', b'{"query": "  "}',
     b'{"query": "{ me { id } }", "variables": 3}', b'{"query": "{ me { id } }", "operationName": []}',
     b'{"query": "{ me { id } }", "extensions": "x"}'],
    ids=["string", "number", "null", "true", "empty", "query-number", "query-blank", "variables", "operation",
         "extensions"],
)  # fmt: skip
async def test_a_malformed_envelope_is_bad_user_input(
    api: Api, world: World, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {world.tokens['MANAGER']}"}
    response = await api.client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["data"] is None and codes(response.json()) == ["BAD_USER_INPUT"]
    assert not [record for record in caplog.records if record.exc_info]


@pytest.mark.parametrize(
    "variables",
    [{"u": None, "p": "x"}, {"u": 1, "p": "x"}, {"u": "someone"}, {"u": ["a"], "p": "x"}],
    ids=["null", "number", "missing", "list"],
)
async def test_bad_variable_values_are_bad_user_input_without_a_traceback(
    api: Api, variables: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        body = await api.post(LOGIN, variables)
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]


async def test_bad_variable_values_of_a_logged_in_caller_are_bad_user_input(api: Api, world: World) -> None:
    for query, variables in (
        ("query($id: ID!) { family(id: $id) { id } }", {"id": {"a": 1}}),
        ("query($n: Int) { families(first: $n) { totalCount } }", {"n": "abc"}),
        ("query($l: LookupList!) { lookups(list: $l) { code } }", {"l": "NOPE"}),
        ("query($s: ID!, $f: Date!, $t: Date!) { timeliness(settingId: $s, from: $f, to: $t) { received } }",
         {"s": "x", "f": "2020-13-45", "t": "2020-01-01"}),
    ):  # fmt: skip
        body = await api.post(query, variables, world.tokens["MANAGER"])
        assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"], (query, body)


@pytest.mark.parametrize(
    "document",
    [
        'mutation($x: RegisterFamilyInput) { login(username: "a", password: "bbbbbbbbbbbb") { token } }',
        'mutation($x: NoSuchType) { login(username: "a", password: "bbbbbbbbbbbb") { token } }',
        'mutation($x: UserInput = {}) { login(username: "a", password: "bbbbbbbbbbbb") { token } }',
        'mutation($x: String = "a") { login(username: $x, password: "bbbbbbbbbbbb") { token } }',
        'mutation { login(username: "a", password: "bbbbbbbbbbbb", bogus: 1) { token } }',
        'mutation { login(username: "a", password: "bbbbbbbbbbbb") @foo { token } }',
        'mutation @foo { login(username: "a", password: "bbbbbbbbbbbb") { token } }',
        'mutation { login(username: A, password: "bbbbbbbbbbbb") { token } }',
        'mutation($x: [String]) { login(username: "a", password: "bbbbbbbbbbbb") { token } }',
    ],
    ids=["input-type", "unknown-type", "default-fields", "default", "argument", "directive", "operation-directive",
         "enum-value", "list-type"],
)  # fmt: skip
async def test_an_anonymous_caller_learns_no_schema_name(api: Api, document: str) -> None:
    body = await api.post(document)
    assert body["data"] is None and codes(body) == ["UNAUTHENTICATED"]
    assert [error["message"] for error in body["errors"]] == ["Log in first"]


async def test_the_plain_login_document_still_works_anonymously(api: Api) -> None:
    body = await api.post(LOGIN, {"u": "nobody-at-all", "p": "not the password"})
    assert codes(body) == ["UNAUTHENTICATED"] and body["errors"][0]["message"] != "Log in first"
    literal = 'mutation { login(username: "nobody-at-all", password: "not the password") { token expiresAt } }'
    assert (await api.post(literal))["errors"][0]["message"] != "Log in first"


async def test_several_operations_need_a_name(api: Api, world: World) -> None:
    document = "query A { me { username } } query B { settings { code } }"
    token = world.tokens["MANAGER"]
    body = await api.post(document, token=token)
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    response = await api.client.post(
        "/graphql", json={"query": document, "operationName": "B"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert list(response.json()["data"]) == ["settings"]


async def test_an_id_has_one_spelling(api: Api, world: World) -> None:
    own = world.families["own"].id
    type_name, _, key = base64.urlsafe_b64decode(own + "=" * (-len(own) % 4)).decode().partition(":")
    padded = base64.urlsafe_b64encode(f"{type_name}:0{key}".encode()).decode().rstrip("=")
    query = "query($id: ID!) { family(id: $id) { id } }"
    assert (await api.ok(query, {"id": own}, world.tokens["MANAGER"]))["family"]["id"] == own
    body = await api.post(query, {"id": padded}, world.tokens["MANAGER"])
    assert body["data"] == {"family": None} and codes(body) == ["NOT_FOUND"]


@pytest.mark.parametrize("key", [0, 1, 7, 99, 12345, 2**31 - 1])
@pytest.mark.parametrize("type_name", ["Family", "Carer", "Child", "Note", "Cursor"])
def test_an_id_is_base64url_of_type_and_key_unpadded(type_name: str, key: int) -> None:
    encoded = encode_id(type_name, key)
    assert encoded == base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")
    assert decode_id(encoded, type_name) == (type_name, key)


async def test_a_registration_holds_a_household_not_a_crowd(api: Api, world: World) -> None:
    carer = {"firstName": "Ann", "lastName": "Crowd", "gender": "FEMALE"}
    registration = {
        "settingId": world.settings["A"],
        "source": "INITIAL_CONTACT",
        "receivedOn": "2026-11-02",
        "carers": [carer] * 11,
    }
    body = await api.post(REGISTER, {"input": registration}, world.tokens["MANAGER"])
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "carers"
    search = await api.ok('{ searchPeople(name: "Ann Crowd") { personId } }', token=world.tokens["MANAGER"])
    assert search["searchPeople"] == []
