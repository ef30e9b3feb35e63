"""Affiliations (standards 6): with the family's recorded consent its record is shared with
another setting; only those who already hold the record may record that consent; a revoked
affiliation stops sharing at once."""

from datetime import date, timedelta
from typing import Any

import pytest

from tests.assertions import codes
from tests.conftest import Api, World
from tests.factories import Centre, fresh_centre

AFFILIATE = """mutation($input: AffiliationInput!) {
  affiliate(input: $input) { id setting { id } consentGivenBy consentDate revokedAt } }"""
REVOKE = "mutation($id: ID!) { revokeAffiliation(id: $id) { id revokedAt } }"
SECONDARY_VIEW = "query($id: ID!) { family(id: $id) { id generalNote notes { text } } }"
AFFILIATIONS = (
    "query($id: ID!) { family(id: $id) { affiliations { id setting { id } consentGivenBy consentDate revokedAt } } }"
)


def consent(family_id: str, setting_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "input": {
            "familyId": family_id,
            "settingId": setting_id,
            "consentGivenBy": "Alex Parent",
            "consentDate": "2026-11-03",
            **changes,
        }
    }


@pytest.fixture
async def home(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


@pytest.fixture
async def partner(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def affiliations_of(api: Api, token: str, family_id: str) -> list[dict[str, Any]]:
    return (await api.ok(AFFILIATIONS, {"id": family_id}, token))["family"]["affiliations"]  # type: ignore[no-any-return]


async def test_affiliate_records_the_consent(api: Api, home: Centre, partner: Centre) -> None:
    family = await home.family(api)
    made = (await api.ok(AFFILIATE, consent(family.id, partner.setting_id), home.manager))["affiliate"]
    assert made["setting"] == {"id": partner.setting_id}
    assert (made["consentGivenBy"], made["consentDate"], made["revokedAt"]) == ("Alex Parent", "2026-11-03", None)
    assert await affiliations_of(api, home.manager, family.id) == [made]


async def test_an_affiliation_shares_secondary_data_with_the_setting_on_the_next_request(
    api: Api, home: Centre, partner: Centre
) -> None:
    family = await home.family(api)
    before = await api.post(SECONDARY_VIEW, {"id": family.id}, partner.manager)
    assert before["data"]["family"]["generalNote"] is None and "FORBIDDEN" in codes(before)
    await api.ok(AFFILIATE, consent(family.id, partner.setting_id), home.manager)
    after = await api.ok(SECONDARY_VIEW, {"id": family.id}, partner.manager)
    assert after["family"]["generalNote"] is not None


async def test_affiliating_the_same_setting_twice_is_bad_user_input(api: Api, home: Centre, partner: Centre) -> None:
    family = await home.family(api)
    await api.ok(AFFILIATE, consent(family.id, partner.setting_id), home.manager)
    body = await api.post(
        AFFILIATE, consent(family.id, partner.setting_id, consentGivenBy="Someone Else"), home.manager
    )
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert len(await affiliations_of(api, home.manager, family.id)) == 1


async def test_affiliating_the_registered_setting_is_bad_user_input(api: Api, home: Centre) -> None:
    family = await home.family(api)
    body = await api.post(AFFILIATE, consent(family.id, home.setting_id), home.manager)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await affiliations_of(api, home.manager, family.id) == []


@pytest.mark.parametrize(
    "change",
    [{"consentGivenBy": "  "}, {"consentDate": "FUTURE"}, {"settingId": "not-a-setting"}],
    ids=["consent-given-by-nobody", "consent-given-in-the-future", "unknown-setting"],
)
async def test_affiliation_without_valid_consent_is_bad_user_input_and_shares_nothing(
    api: Api, home: Centre, partner: Centre, change: dict[str, str]
) -> None:
    family = await home.family(api)
    if change.get("consentDate") == "FUTURE":
        change = {"consentDate": (date.today() + timedelta(days=30)).isoformat()}
    body = await api.post(AFFILIATE, consent(family.id, partner.setting_id, **change), home.manager)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == next(iter(change))
    assert await affiliations_of(api, home.manager, family.id) == []


async def test_staff_whose_settings_are_all_outside_the_scope_cannot_affiliate(
    api: Api, home: Centre, partner: Centre
) -> None:
    family = await home.family(api)
    body = await api.post(AFFILIATE, consent(family.id, partner.setting_id), partner.manager)
    assert body["data"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["category"] == "SECONDARY"
    assert await affiliations_of(api, home.manager, family.id) == []
    after = await api.post(SECONDARY_VIEW, {"id": family.id}, partner.manager)
    assert after["data"]["family"]["generalNote"] is None


async def test_a_revoked_affiliation_no_longer_shares_on_the_next_request(
    api: Api, home: Centre, partner: Centre
) -> None:
    family = await home.family(api)
    made = (await api.ok(AFFILIATE, consent(family.id, partner.setting_id), home.manager))["affiliate"]
    assert (await api.ok(SECONDARY_VIEW, {"id": family.id}, partner.manager))["family"]["generalNote"] is not None
    revoked = (await api.ok(REVOKE, {"id": made["id"]}, home.manager))["revokeAffiliation"]
    assert revoked["id"] == made["id"] and revoked["revokedAt"] is not None
    after = await api.post(SECONDARY_VIEW, {"id": family.id}, partner.manager)
    assert after["data"]["family"]["generalNote"] is None
    assert after["data"]["family"]["notes"] is None
    assert codes(after) == ["FORBIDDEN", "FORBIDDEN"]
    listed = await api.ok(
        "query($s: ID) { families(settingId: $s, first: 100) { nodes { id } } }",
        {"s": partner.setting_id},
        home.manager,
    )
    assert family.id not in {node["id"] for node in listed["families"]["nodes"]}


async def test_revoking_twice_is_bad_user_input(api: Api, home: Centre, partner: Centre) -> None:
    family = await home.family(api)
    made = (await api.ok(AFFILIATE, consent(family.id, partner.setting_id), home.manager))["affiliate"]
    first = (await api.ok(REVOKE, {"id": made["id"]}, home.manager))["revokeAffiliation"]
    body = await api.post(REVOKE, {"id": made["id"]}, home.manager)
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    [stored] = await affiliations_of(api, home.manager, family.id)
    assert stored["revokedAt"] == first["revokedAt"]


async def test_staff_of_an_affiliated_setting_may_record_a_further_consent(api: Api, world: World) -> None:
    home, partner, third = [await fresh_centre(api, world) for _ in range(3)]
    family = await home.family(api)
    await api.ok(AFFILIATE, consent(family.id, partner.setting_id), home.manager)
    made = (await api.ok(AFFILIATE, consent(family.id, third.setting_id), partner.manager))["affiliate"]
    assert made["setting"] == {"id": third.setting_id}
