"""No N+1 (DESIGN "Performance principles"): the SQL statements of a request grow with the depth
of the query, never with the number of rows; and a warm request makes no Casbin enforce call."""

import gc
from datetime import date
from typing import Any

import pytest

from models import Affiliation, Carer, CarerChild, Child, ChildProtectionPlan, Family, Note
from models.base import utcnow
from server import GC_THRESHOLDS, settle_heap
from tests.assertions import codes
from tests.conftest import Api, World
from tests.factories import fresh_centre, fresh_setting, key_of, unique_name, user_key

MANY = 200

DEEP_PAGE = """query($s: ID!, $first: Int!) {
  families(settingId: $s, first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      id version generalNote address { line1 postcode } registeredSetting { id code } access { read write }
      carers { id firstName lastName gender ethnicity language
               relationships { relationship child { id } }
               notes { text authorName setting { code } } confidentialNotes { text authorName } }
      children { id firstName lastName gender ethnicity language
                 childProtectionPlan { id category startDate }
                 notes { text setting { code } } confidentialNotes { text } }
      notes { text authorName setting { code } }
      confidentialNotes { text authorName }
      affiliations { id consentGivenBy setting { code } }
    }
  }
}"""

# The exact number of statements of DEEP_PAGE at any page size, measured: authentication 1,
# the page with its total count and registered settings 1, affiliations (scope and the field,
# with their settings) 1, the carers and children with the relationships, the open plans and
# the notes of the families, carers and children (with their settings; resolvers/household.py)
# 1, and 1 insert of the confidential-notes read events. A change here means a loader was added
# or lost.
EXPECTED_STATEMENTS = 5


@pytest.fixture(scope="module")
async def crowd(api: Api, world: World, app: Any) -> dict[str, Any]:
    """MANY families registered with a fresh setting, each with a carer related to a child,
    history and confidential notes on all three, an open plan and an affiliation. Inserted
    directly: the API would take minutes to build as much."""
    centre = await fresh_centre(api, world)
    partner = await fresh_setting(api, world)
    setting_key, partner_key = key_of(centre.setting_id, "Setting"), key_of(partner, "Setting")
    author = await user_key(api, centre.manager)
    surname = unique_name()
    async with app.state.sessionmaker() as session:
        families = [
            Family(
                registered_setting_id=setting_key,
                version=1,
                address_line1=f"{n} Station Road",
                postcode="WF1 1AA",
                general_note=f"Note {n}",
                source="REFERRAL",
                received_on=date(2026, 11, 2),
                entered_at=utcnow(),
                entered_by_id=author,
                consent_to_contact=True,
            )
            for n in range(MANY)
        ]
        session.add_all(families)
        await session.flush()
        people: list[tuple[Carer, Child]] = []
        for family in families:
            carer = Carer(
                family_id=family.id,
                first_name="Alex",
                last_name=surname,
                gender="FEMALE",
                date_of_birth=date(1990, 4, 1),
            )
            child = Child(
                family_id=family.id,
                first_name="Sam",
                last_name=surname,
                gender="MALE",
                date_of_birth=date(2024, 3, 10),
            )
            people.append((carer, child))
        session.add_all([person for pair in people for person in pair])
        await session.flush()
        rows: list[Any] = []
        for family, (carer, child) in zip(families, people, strict=True):
            rows.append(CarerChild(carer_id=carer.id, child_id=child.id, relationship="MOTHER"))
            rows.append(
                ChildProtectionPlan(
                    child_id=child.id,
                    start_date=date(2026, 10, 1),
                    category="NEGLECT",
                    recorded_by_id=author,
                    created_at=utcnow(),
                )
            )
            rows.append(
                Affiliation(
                    family_id=family.id,
                    setting_id=partner_key,
                    consent_given_by="Alex",
                    consent_date=date(2026, 11, 3),
                    created_at=utcnow(),
                )
            )
            for subject_type, subject_id in (("family", family.id), ("carer", carer.id), ("child", child.id)):
                for kind in ("HISTORY", "CONFIDENTIAL"):
                    rows.append(
                        Note(
                            family_id=family.id,
                            subject_type=subject_type,
                            subject_id=subject_id,
                            kind=kind,
                            text=f"{kind} note",
                            author_id=author,
                            setting_id=setting_key,
                            created_at=utcnow(),
                        )
                    )
        session.add_all(rows)
        await session.commit()
    return {"setting_id": centre.setting_id, "manager": centre.manager, "head_of_centre": centre.head_of_centre}


async def statements_of(api: Api, count_statements: Any, token: str, setting_id: str, first: int) -> tuple[int, Any]:
    before = count_statements.count
    body = await api.post(DEEP_PAGE, {"s": setting_id, "first": first}, token)
    assert set(codes(body)) <= {"FORBIDDEN"}
    return count_statements.count - before, body["data"]["families"]


async def test_the_crowd_is_fully_readable_by_its_manager(api: Api, crowd: dict[str, Any]) -> None:
    data = await api.ok(DEEP_PAGE, {"s": crowd["setting_id"], "first": MANY}, crowd["manager"])
    page = data["families"]
    assert page["totalCount"] == MANY and len(page["nodes"]) == MANY
    node = page["nodes"][-1]
    assert node["confidentialNotes"] and node["affiliations"] and node["carers"][0]["relationships"]
    assert node["children"][0]["childProtectionPlan"]["category"] == "NEGLECT"


@pytest.mark.parametrize("reader", ["manager", "head_of_centre"], ids=["fully-allowed", "with-denials"])
async def test_a_page_of_200_families_costs_as_many_statements_as_a_page_of_2(
    api: Api, crowd: dict[str, Any], count_statements: Any, reader: str
) -> None:
    token = crowd[reader]
    await statements_of(api, count_statements, token, crowd["setting_id"], 2)  # warm the pool and caches
    small, small_page = await statements_of(api, count_statements, token, crowd["setting_id"], 2)
    large, large_page = await statements_of(api, count_statements, token, crowd["setting_id"], MANY)
    assert (len(small_page["nodes"]), len(large_page["nodes"])) == (2, MANY)
    assert large == small


async def test_a_deep_page_costs_exactly_the_measured_number_of_statements(
    api: Api, crowd: dict[str, Any], count_statements: Any
) -> None:
    await statements_of(api, count_statements, crowd["manager"], crowd["setting_id"], 2)
    statements, _ = await statements_of(api, count_statements, crowd["manager"], crowd["setting_id"], MANY)
    assert statements == EXPECTED_STATEMENTS


async def test_the_next_page_costs_the_same(api: Api, crowd: dict[str, Any], count_statements: Any) -> None:
    _, first_page = await statements_of(api, count_statements, crowd["manager"], crowd["setting_id"], 50)
    before = count_statements.count
    data = await api.ok(
        DEEP_PAGE.replace("first: $first)", "first: $first, after: $after)").replace(
            "$first: Int!)", "$first: Int!, $after: String)"
        ),
        {"s": crowd["setting_id"], "first": 50, "after": first_page["pageInfo"]["endCursor"]},
        crowd["manager"],
    )
    assert len(data["families"]["nodes"]) == 50
    assert count_statements.count - before == EXPECTED_STATEMENTS


async def test_a_warm_request_makes_no_enforce_call(api: Api, world: World, app: Any) -> None:
    query = "query($id: ID!) { family(id: $id) { id generalNote confidentialNotes { text } access { read write } } }"
    variables = {"id": world.families["own"].id}
    await api.ok(query, variables, world.tokens["MANAGER"])
    before = app.state.decisions.enforce_calls
    await api.ok(query, variables, world.tokens["MANAGER"])
    assert app.state.decisions.enforce_calls - before == 0


async def test_a_new_user_of_a_warm_role_makes_no_enforce_call(api: Api, world: World, app: Any) -> None:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    query = """query($id: ID!) { family(id: $id) { id generalNote notes { text } confidentialNotes { text }
                 children { childProtectionPlan { id } } } }"""
    await api.ok(query, {"id": world.families["own"].id}, world.tokens["MANAGER"])
    before = app.state.decisions.enforce_calls
    await api.ok(query, {"id": family.id}, centre.manager)
    assert app.state.decisions.enforce_calls - before == 0


FRAGMENTED_PAGE = """query($s: ID!, $first: Int!) {
  families(settingId: $s, first: $first) {
    nodes { ...people ... on Family { kids: children { id firstName } } }
  }
}
fragment people on Family { carers { id firstName } }"""
PLAIN_PAGE = """query($s: ID!, $first: Int!) {
  families(settingId: $s, first: $first) { nodes { carers { id firstName } kids: children { id firstName } } }
}"""


async def test_relations_selected_through_fragments_are_read_with_the_page(
    api: Api, crowd: dict[str, Any], count_statements: Any
) -> None:
    """The page reads the carers and children its nodes ask for, however the document spells
    them (fragment spread, inline fragment, alias): the same answer, the same statements."""
    variables = {"s": crowd["setting_id"], "first": MANY}
    answers, counts = [], []
    for document in (PLAIN_PAGE, FRAGMENTED_PAGE, PLAIN_PAGE):
        before = count_statements.count
        answers.append(await api.ok(document, variables, crowd["manager"]))
        counts.append(count_statements.count - before)
    assert answers[0] == answers[1] and len(answers[0]["families"]["nodes"]) == MANY
    assert all(node["carers"] and node["kids"] for node in answers[0]["families"]["nodes"])
    assert counts[1] == counts[2]


def test_start_up_moves_what_it_made_out_of_the_collectors_generations() -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_count()[0] < 100  # collected first: the young generation starts empty
        assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > thresholds[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
