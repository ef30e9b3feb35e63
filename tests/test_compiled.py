"""Compiled execution (schema/compiled.py): which operations a plan runs, and the switch. That
a plan answers exactly as graphql-core does is the oracle's to prove, over the whole suite
(tests/oracle.py)."""

import pytest

from schema import build_schema
from schema.compiled import EXECUTION, Plan, _plans, executions
from tests.conftest import Api, World


async def test_a_query_runs_by_its_plan_and_a_mutation_on_graphql_core(api: Api, world: World) -> None:
    before = executions.copy()
    token = world.tokens["MANAGER"]
    await api.ok("query Page { families(first: 2) { nodes { id carers { firstName } } } }", token=token)
    body = await api.post('mutation { createSetting(input: {code: "X", name: "X"}) { id } }', token=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert executions["compiled"] - before["compiled"] == 1
    assert executions["standard: mutation"] - before["standard: mutation"] == 1


async def test_introspection_runs_on_graphql_core(api: Api, world: World) -> None:
    before = executions.copy()
    await api.ok("{ __schema { queryType { name } } }", token=world.tokens["MANAGER"])
    assert executions["standard: introspection"] - before["standard: introspection"] == 1


def test_an_unknown_execution_mode_stops_the_schema_from_building(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXECUTION, "fast")
    with pytest.raises(ValueError, match="ESTART_EXECUTION must be one of"):
        build_schema()


async def test_a_plan_keeps_the_code_of_its_selection_sets(api: Api, world: World) -> None:
    document = "query Kept { kept: families(first: 1) { nodes { id carers { firstName } } } }"
    await api.ok(document, token=world.tokens["MANAGER"])
    sources = [plan.sources for _, plan in _plans.values() if isinstance(plan, Plan)]
    kept = next(source for source in sources if '"""Query { kept }"""' in source[-1])
    assert [text.split("(", 1)[0] for text in kept] == [
        "def select_Carer",
        "def select_Family",
        "def select_FamilyConnection",
        "def select_Query",
    ]
    assert "# firstName: Carer.firstName, attribute first_name, guarded: primary" in kept[0]


async def test_a_preloaded_relation_is_read_from_the_record(api: Api, world: World) -> None:
    token = world.tokens["MANAGER"]
    page = await api.ok(
        "query Preloaded { preloaded: families(first: 2) { nodes { id registeredSetting { code } carers { id } } } }",
        token=token,
    )
    sources = [plan.sources for _, plan in _plans.values() if isinstance(plan, Plan)]
    kept = next(source for source in sources if '"""Query { preloaded }"""' in source[-1])
    family = next(text for text in kept if text.startswith("def select_Family"))
    for attribute in ("registered_setting", "carers"):
        assert f"value = source.{attribute}\n            if value is None:\n" in family
    for node in page["preloaded"]["nodes"]:  # the same family alone answers the same
        one = await api.ok(
            "query One($id: ID!) { family(id: $id) { registeredSetting { code } } }", {"id": node["id"]}, token=token
        )
        assert one["family"]["registeredSetting"] == node["registeredSetting"]
