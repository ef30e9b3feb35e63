"""Resource limits: each bomb is refused with QUERY_TOO_COMPLEX (or BAD_USER_INPUT) before any
resolver runs, fragments cannot hide from the limits, and the server keeps answering."""

from typing import Any

import pytest
from graphql import get_introspection_query, parse

from config import Limits
from schema import build_schema
from schema import limits as limits_module
from schema.limits import check_limits
from tests.assertions import codes
from tests.conftest import ADMIN, PASSWORD, Api, World

SCHEMA = build_schema()._schema


async def test_a_query_deeper_than_the_limit_is_refused(api: Api, world: World) -> None:
    deep = '{ family(id: "x") { carers { relationships { child { notes { setting { code } } } } } } }'
    assert check_limits(Limits(max_depth=6), SCHEMA, parse(deep), {}).depth == 6
    with pytest.raises(Exception, match="deeper than 5"):
        check_limits(Limits(max_depth=5), SCHEMA, parse(deep), {})
    body = await api.post(deep.replace("setting { code }", "setting { code }" * 1), token=world.tokens["MANAGER"])
    assert "errors" not in body or codes(body) != ["QUERY_TOO_COMPLEX"]  # 6 levels are served by default


async def test_an_alias_bomb_is_refused_even_through_fragments(api: Api, world: World) -> None:
    fields = " ".join(f"a{i}: username" for i in range(10))
    query = f"{{ me {{ ...F }} x: me {{ ...F }} y: me {{ ...F }} }} fragment F on User {{ {fields} }}"
    body = await api.post(query, token=world.tokens["MANAGER"])
    assert body["data"] is None and codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_an_alias_inside_a_long_page_is_one_alias(api: Api, world: World) -> None:
    query = "{ families(first: 200) { nodes { key: id kids: children { firstName } } } }"
    assert check_limits(Limits(), SCHEMA, parse(query), {}).aliases == 2
    assert (await api.ok(query, token=world.tokens["MANAGER"]))["families"]["nodes"]


async def test_circular_fragments_are_refused_and_the_server_answers_the_next_request(api: Api, world: World) -> None:
    body = await api.post(
        "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }", token=world.tokens["MANAGER"]
    )
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    assert (await api.ok("{ me { username } }", token=world.tokens["MANAGER"]))["me"]["username"] == "manager-a"


async def test_a_document_with_too_many_tokens_is_not_even_parsed(api: Api, world: World) -> None:
    body = await api.post("{ " + "me { id } " * 2000 + "}", token=world.tokens["MANAGER"])
    assert body["data"] is None and codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_repeated_directives_on_a_field_are_refused(api: Api, world: World) -> None:
    body = await api.post("{ me { username" + " @include(if: true)" * 4 + " } }", token=world.tokens["MANAGER"])
    assert body["data"] is None and codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_an_expensive_query_is_refused_by_its_estimated_cost(api: Api, world: World) -> None:
    query = """{ families(first: 1000) { nodes { carers { relationships { child {
        notes { text setting { code name } } confidentialNotes { text setting { code name } }
        history { action changes { field before after } } } } } } } }"""
    body = await api.post(query, token=world.tokens["MANAGER"])
    assert body["data"] is None and codes(body) == ["QUERY_TOO_COMPLEX"]


def test_page_sizes_from_variables_count_toward_the_cost() -> None:
    query = parse("query($n: Int) { families(first: $n) { nodes { id address { postcode } } } }")
    small = check_limits(Limits(), SCHEMA, query, {"n": 2}).cost
    large = check_limits(Limits(), SCHEMA, query, {"n": 1000}).cost
    assert large - 1 == 500 * (small - 1)  # the families field itself, then 4 fields per node


def test_a_page_without_first_counts_as_its_default_size() -> None:
    """`families` serves 50 when `first` is omitted or its variable unset: so counts the cost."""
    cost = check_limits(Limits(), SCHEMA, parse("{ families(first: 50) { nodes { id } } }"), {}).cost
    cases: tuple[tuple[str, dict[str, int]], ...] = (
        ("{ families { nodes { id } } }", {}),
        ("query($n: Int) { families(first: $n) { nodes { id } } }", {}),
    )
    for document, variables in cases:
        assert check_limits(Limits(), SCHEMA, parse(document), variables).cost == cost


def test_a_variable_default_is_the_page_size_when_no_value_is_given() -> None:
    """Issue 10 finding 6: `query($f: Int = 1000)` was costed at the schema's default of 50."""
    defaulted = parse("query($f: Int = 1000) { families(first: $f) { nodes { id } } }")
    costs = {n: check_limits(Limits(), SCHEMA, parse(f"{{ families(first: {n}) {{ nodes {{ id }} }} }}"), {}).cost
             for n in (2, 50, 1000)}  # fmt: skip
    assert check_limits(Limits(), SCHEMA, defaulted, {}).cost == costs[1000]
    assert check_limits(Limits(), SCHEMA, defaulted, {"f": 2}).cost == costs[2]  # a value given wins
    assert check_limits(Limits(), SCHEMA, defaulted, {"f": None}).cost == costs[50]  # null: the schema's default
    two = parse("query A($f: Int = 1000) { families(first: $f) { nodes { id } } } query B($f: Int = 2) { me { id } }")
    assert check_limits(Limits(), SCHEMA, two, {}, "A").cost > check_limits(Limits(), SCHEMA, two, {}, "B").cost


def test_introspection_counts_toward_the_limits() -> None:
    document = parse(get_introspection_query())
    assert check_limits(Limits(), SCHEMA, document, {}).depth > 10  # GraphiQL's own query fits...
    with pytest.raises(Exception, match="deeper than 5"):
        check_limits(Limits(max_depth=5), SCHEMA, document, {})  # ...and is limited like any other


async def test_an_overlong_string_input_is_refused(api: Api, world: World) -> None:
    body = await api.post(
        "query($n: String!) { searchPeople(name: $n) { personId } }", {"n": "a" * 20_001}, world.tokens["MANAGER"]
    )
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]


async def test_a_page_larger_than_1000_is_refused(api: Api, world: World) -> None:
    body = await api.post("{ families(first: 1001) { totalCount } }", token=world.tokens["MANAGER"])
    assert body["data"] == {"families": None} and codes(body) == ["BAD_USER_INPUT"]


async def test_no_did_you_mean_suggestions(api: Api, world: World) -> None:
    body = await api.post("{ famlies { id } }", token=world.tokens["MANAGER"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_a_depth_bomb_over_http_is_refused(api: Api, world: World) -> None:
    inner = "name"
    for _ in range(20):  # introspection is the schema's only cycle: ofType of ofType of...
        inner = f"ofType {{ {inner} }}"
    body = await api.post(
        f"{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}", token=world.tokens["MANAGER"]
    )
    assert body["data"] is None and codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_one_password_hashing_field_a_request_however_written(
    api: Api, world: World, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 aliased logins would cost 30 argon2 hashes: refused before any resolver runs (no hash,
    no password changed), whether aliased, in fragments or mixed; one alone is served."""
    passwords = app.state.authenticator.passwords
    hashed: list[str] = []
    for name in ("hash", "verify"):
        real = getattr(passwords, name)

        async def counted(*args: Any, _real: Any = real, _name: str = name) -> Any:
            hashed.append(_name)
            return await _real(*args)

        monkeypatch.setattr(passwords, name, counted)
    login = f'login(username: "{ADMIN}", password: "{PASSWORD}") {{ token }}'
    change = f'changePassword(currentPassword: "{PASSWORD}", newPassword: "a brand new passphrase 42")'
    manager = world.tokens["MANAGER"]
    for query, token in (
        (f"mutation {{ a: {login} b: {login} }}", None),
        (f"mutation {{ {' '.join(f'a{i}: {login}' for i in range(30))} }}", None),
        (f"mutation {{ {login} ...L }} fragment L on Mutation {{ again: {login} }}", manager),
        (f"mutation {{ {change} ... on Mutation {{ {login} }} }}", manager),
        (f'mutation {{ {change} setPassword(userId: "x", password: "another new passphrase 7") }}', manager),
    ):
        body = await api.post(query, token=token)
        assert body["data"] is None and codes(body) == ["QUERY_TOO_COMPLEX"], query
        assert "one of login, changePassword" in body["errors"][0]["message"]
    assert hashed == []
    assert await api.login(ADMIN, PASSWORD)  # one alone is served (and the password is unchanged)
    assert hashed == ["verify"]


async def test_a_document_is_measured_once_per_page_size_and_its_strings_checked_every_time(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: a document's measure is cached with its page sizes; the variables' strings are
    still checked on every request, and a larger page is measured (and costed) again."""
    measured: list[dict[str, Any]] = []
    check = limits_module.check_limits

    def counting(limits: Limits, schema: Any, document: Any, variables: dict[str, Any], *rest: Any) -> Any:
        measured.append(variables)
        return check(limits, schema, document, variables, *rest)

    monkeypatch.setattr(limits_module, "check_limits", counting)
    query = "query Cached($n: Int, $s: ID) { families(first: $n, settingId: $s) { totalCount } }"
    token = world.tokens["MANAGER"]
    for _ in range(3):
        assert "errors" not in await api.post(query, {"n": 3, "s": world.settings["A"]}, token)
    assert len(measured) == 1
    body = await api.post(query, {"n": 3, "s": "x" * 100_000}, token)  # the same page, an overlong string
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    assert "errors" not in await api.post(query, {"n": 4, "s": world.settings["A"]}, token)
    assert [variables["n"] for variables in measured] == [3, 4]
