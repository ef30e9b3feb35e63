"""Root fields of a query resolve concurrently on one database session; a denied non-null
root field beside others must neither hang the request nor break the session."""

import asyncio

from tests.conftest import Api, World

QUERY = "{ me { username } settings { code } families { nodes { id } } }"


async def test_a_denied_root_field_beside_others_answers_promptly(api: Api, world: World) -> None:
    body = await asyncio.wait_for(api.post(QUERY, token=world.tokens["SYSTEM_ADMINISTRATOR"]), timeout=30)
    assert body["data"] is None  # families is FamilyConnection!: its denial nulls the whole answer
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["families"], "FORBIDDEN")]
    # the next request on the same app is served normally
    body = await asyncio.wait_for(api.post(QUERY, token=world.tokens["MANAGER"]), timeout=30)
    assert body["data"]["me"]["username"] == "manager-a"
    assert {"CCA", "CCB", "CCC"} <= {s["code"] for s in body["data"]["settings"]}


async def test_root_fields_that_read_concurrently_all_answer(api: Api, world: World) -> None:
    query = "{ a: me { username } b: me { username } settings { code } c: settings { code } }"
    body = await asyncio.wait_for(api.post(query, token=world.tokens["MANAGER"]), timeout=30)
    assert "errors" not in body
    assert body["data"]["a"] == body["data"]["b"] == {"username": "manager-a"}
