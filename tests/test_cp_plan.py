"""Child protection plans (standards 4): dated episodes, at most one open per child; the list
of children subject to a plan shows each child with an open plan whose family's scope includes
the setting."""

from datetime import date, timedelta
from typing import Any

import pytest

from tests.assertions import codes
from tests.conftest import AFFILIATE, Api, World
from tests.factories import Centre, fresh_centre

START = """mutation($input: CpPlanInput!) {
  startChildProtectionPlan(input: $input) { id startDate endDate category } }"""
END = "mutation($id: ID!, $d: Date!) { endChildProtectionPlan(id: $id, endDate: $d) { id startDate endDate category } }"
CHILD_PLAN = (
    "query($id: ID!) { family(id: $id) { children { id childProtectionPlan { id startDate endDate category } } } }"
)
LIST = "query($s: ID!) { childProtectionList(settingId: $s) { id childProtectionPlan { id } } }"


def plan_input(child_id: str, start: str = "2026-10-01", category: str = "NEGLECT") -> dict[str, Any]:
    return {"input": {"childId": child_id, "startDate": start, "category": category}}


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def open_plan(api: Api, token: str, family_id: str) -> dict[str, Any] | None:
    data = await api.ok(CHILD_PLAN, {"id": family_id}, token)
    return data["family"]["children"][0]["childProtectionPlan"]  # type: ignore[no-any-return]


async def listed(api: Api, token: str, setting_id: str) -> list[str]:
    return [child["id"] for child in (await api.ok(LIST, {"s": setting_id}, token))["childProtectionList"]]


async def test_a_started_plan_is_open_on_the_child_and_puts_it_on_the_list(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    assert await listed(api, centre.manager, centre.setting_id) == []
    plan = (await api.ok(START, plan_input(family.child_id, category="EMOTIONAL_ABUSE"), centre.manager))[
        "startChildProtectionPlan"
    ]
    assert (plan["startDate"], plan["endDate"], plan["category"]) == ("2026-10-01", None, "EMOTIONAL_ABUSE")
    assert await open_plan(api, centre.manager, family.id) == plan
    assert await listed(api, centre.manager, centre.setting_id) == [family.child_id]


async def test_a_second_open_plan_for_the_same_child_is_rejected(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    first = (await api.ok(START, plan_input(family.child_id), centre.manager))["startChildProtectionPlan"]
    body = await api.post(START, plan_input(family.child_id, "2026-10-05", "PHYSICAL_ABUSE"), centre.manager)
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await open_plan(api, centre.manager, family.id) == first


async def test_a_plan_cannot_end_before_it_started(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    plan = (await api.ok(START, plan_input(family.child_id), centre.manager))["startChildProtectionPlan"]
    body = await api.post(END, {"id": plan["id"], "d": "2026-09-30"}, centre.manager)
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "endDate"
    assert await open_plan(api, centre.manager, family.id) == plan
    assert await listed(api, centre.manager, centre.setting_id) == [family.child_id]


async def test_a_plan_may_end_on_the_day_it_started(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    plan = (await api.ok(START, plan_input(family.child_id), centre.manager))["startChildProtectionPlan"]
    ended = (await api.ok(END, {"id": plan["id"], "d": "2026-10-01"}, centre.manager))["endChildProtectionPlan"]
    assert ended["endDate"] == "2026-10-01"


async def test_an_ended_plan_leaves_the_list_and_the_child(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    plan = (await api.ok(START, plan_input(family.child_id), centre.manager))["startChildProtectionPlan"]
    ended = (await api.ok(END, {"id": plan["id"], "d": "2026-10-20"}, centre.manager))["endChildProtectionPlan"]
    assert (ended["id"], ended["endDate"]) == (plan["id"], "2026-10-20")
    assert await listed(api, centre.manager, centre.setting_id) == []
    assert await open_plan(api, centre.manager, family.id) is None


async def test_a_new_plan_may_start_after_the_last_one_ended(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    plan = (await api.ok(START, plan_input(family.child_id), centre.manager))["startChildProtectionPlan"]
    await api.ok(END, {"id": plan["id"], "d": "2026-10-20"}, centre.manager)
    again = (await api.ok(START, plan_input(family.child_id, "2026-10-25", "MULTIPLE"), centre.manager))[
        "startChildProtectionPlan"
    ]
    assert again["id"] != plan["id"]
    assert await open_plan(api, centre.manager, family.id) == again
    assert await listed(api, centre.manager, centre.setting_id) == [family.child_id]


async def test_ending_a_plan_twice_is_bad_user_input(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    plan = (await api.ok(START, plan_input(family.child_id), centre.manager))["startChildProtectionPlan"]
    await api.ok(END, {"id": plan["id"], "d": "2026-10-20"}, centre.manager)
    body = await api.post(END, {"id": plan["id"], "d": "2026-10-21"}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_a_plan_cannot_start_in_the_future(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    future = (date.today() + timedelta(days=30)).isoformat()
    body = await api.post(START, plan_input(family.child_id, future), centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "startDate"
    assert await open_plan(api, centre.manager, family.id) is None


@pytest.mark.parametrize("child", ["malformed", "a-family-id"], ids=lambda c: f"plan-for-{c}-is-not-found")
async def test_a_plan_for_something_that_is_not_a_child_is_not_found(api: Api, centre: Centre, child: str) -> None:
    family = await centre.family(api)
    child_id = {"malformed": "not-an-id", "a-family-id": family.id}[child]
    body = await api.post(START, plan_input(child_id), centre.manager)
    assert codes(body) == ["NOT_FOUND"]


async def test_the_list_follows_the_scope_of_the_family(api: Api, world: World) -> None:
    home, partner = await fresh_centre(api, world), await fresh_centre(api, world)
    family = await home.family(api)
    await api.ok(START, plan_input(family.child_id), home.manager)
    assert await listed(api, partner.manager, partner.setting_id) == []
    made = await api.ok(
        AFFILIATE,
        {
            "input": {
                "familyId": family.id,
                "settingId": partner.setting_id,
                "consentGivenBy": "Alex",
                "consentDate": "2026-11-03",
            }
        },
        home.manager,
    )
    assert await listed(api, partner.manager, partner.setting_id) == [family.child_id]
    await api.ok(
        "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }", {"id": made["affiliate"]["id"]}, home.manager
    )
    assert await listed(api, partner.manager, partner.setting_id) == []
