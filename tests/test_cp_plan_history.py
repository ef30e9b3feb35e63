"""Past child protection plans (standards 4; the issue: "endChildProtectionPlan, history of
past plans, childProtectionList limited to open plans"): a child's plans, ended and open,
oldest first; the list of children subject to a plan shows only those with an open one."""

from typing import Any

import pytest

from tests.assertions import assert_bad_input
from tests.conftest import Api, World
from tests.factories import Centre, fresh_centre

START = """mutation($input: CpPlanInput!) {
  startChildProtectionPlan(input: $input) { id startDate endDate category } }"""
END = "mutation($id: ID!, $d: Date!) { endChildProtectionPlan(id: $id, endDate: $d) { id startDate endDate category } }"
PLANS = """query($id: ID!) { family(id: $id) { children { id
  childProtectionPlan { id startDate endDate category }
  childProtectionPlans { id startDate endDate category } } } }"""
LIST = "query($s: ID!) { childProtectionList(settingId: $s) { id childProtectionPlan { id } } }"


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def start(api: Api, token: str, child_id: str, on: str, category: str = "NEGLECT") -> dict[str, Any]:
    value = {"childId": child_id, "startDate": on, "category": category}
    return (await api.ok(START, {"input": value}, token))["startChildProtectionPlan"]  # type: ignore[no-any-return]


async def end(api: Api, token: str, plan_id: str, on: str) -> dict[str, Any]:
    return (await api.ok(END, {"id": plan_id, "d": on}, token))["endChildProtectionPlan"]  # type: ignore[no-any-return]


async def plans(api: Api, token: str, family_id: str) -> dict[str, Any]:
    return (await api.ok(PLANS, {"id": family_id}, token))["family"]["children"][0]  # type: ignore[no-any-return]


async def listed(api: Api, token: str, setting_id: str) -> list[str]:
    return [child["id"] for child in (await api.ok(LIST, {"s": setting_id}, token))["childProtectionList"]]


async def test_a_childs_plans_are_listed_ended_and_open_oldest_first(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    first = await start(api, centre.manager, family.child_id, "2025-06-02", "PHYSICAL_ABUSE")
    first = await end(api, centre.manager, first["id"], "2025-12-01")
    assert first["endDate"] == "2025-12-01"
    second = await start(api, centre.manager, family.child_id, "2026-10-01", "EMOTIONAL_ABUSE")
    child = await plans(api, centre.manager, family.id)
    assert child["childProtectionPlans"] == [first, second]
    assert child["childProtectionPlan"] == second
    assert await listed(api, centre.manager, centre.setting_id) == [family.child_id]
    second = await end(api, centre.manager, second["id"], "2026-11-20")
    child = await plans(api, centre.manager, family.id)
    assert child["childProtectionPlans"] == [first, second]
    assert child["childProtectionPlan"] is None
    assert await listed(api, centre.manager, centre.setting_id) == []


async def test_the_list_holds_only_children_with_an_open_plan(api: Api, centre: Centre) -> None:
    ended, open_, never = await centre.family(api), await centre.family(api), await centre.family(api)
    plan = await start(api, centre.manager, ended.child_id, "2026-01-05")
    await end(api, centre.manager, plan["id"], "2026-03-01")
    await start(api, centre.manager, open_.child_id, "2026-09-01")
    assert await listed(api, centre.manager, centre.setting_id) == [open_.child_id]
    assert (await plans(api, centre.manager, never.id))["childProtectionPlans"] == []
    assert len((await plans(api, centre.manager, ended.id))["childProtectionPlans"]) == 1


async def test_an_ended_plan_cannot_be_ended_again_and_stays_as_it_was(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    plan = await end(
        api, centre.manager, (await start(api, centre.manager, family.child_id, "2026-01-05"))["id"], "2026-02-01"
    )
    body = await api.post(END, {"id": plan["id"], "d": "2026-03-01"}, centre.manager)
    assert_bad_input(body, "endChildProtectionPlan", "id")
    assert (await plans(api, centre.manager, family.id))["childProtectionPlans"] == [plan]


async def test_an_end_date_in_the_future_is_refused_and_the_plan_stays_open(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    plan = await start(api, centre.manager, family.child_id, "2026-01-05")
    body = await api.post(END, {"id": plan["id"], "d": "2099-01-01"}, centre.manager)
    assert_bad_input(body, "endChildProtectionPlan", "endDate")
    child = await plans(api, centre.manager, family.id)
    assert (child["childProtectionPlan"], child["childProtectionPlans"]) == (plan, [plan])
    assert await listed(api, centre.manager, centre.setting_id) == [family.child_id]
