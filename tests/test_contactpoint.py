"""The ContactPoint feed (standards 8; API.md "The ContactPoint feed"): a consumer that replays
the change log mirrors exactly the current children — name, date of birth, gender, address and
the settings involved, nothing else — whatever its batch sizes, through concurrent writes, its
own restarts and a compaction of the log."""

import asyncio
import base64
from typing import Any

import pytest
from sqlalchemy import select

from models import Affiliation, Child, Family, Setting
from resolvers.ids import encode_id
from server import compact_feed
from tests.conftest import AFFILIATE, Api, World
from tests.factories import Centre, fresh_centre, unique_name

FEED = """query($after: String, $first: Int) { contactPointChanges(after: $after, first: $first) {
  changes { cursor kind childId at child { id firstName lastName dateOfBirth gender
            address { line1 line2 town postcode } settings { code } } }
  endCursor hasMore } }"""
FED_FIELDS = {"id", "firstName", "lastName", "dateOfBirth", "gender", "address", "settings"}
Mirror = dict[str, tuple[Any, ...]]
NAMES = ["Ada", "Bea", "Cal", "Dov"]
MOVE = """mutation($id: ID!, $a: AddressInput) {
  updateFamily(id: $id, expectedVersion: 1, input: {address: $a}) { id } }"""
RENAME = """mutation($id: ID!, $v: Int!, $n: String!) {
  updateChild(id: $id, expectedVersion: $v, input: {firstName: $n}) { id } }"""


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


def fed_state(child: dict[str, Any]) -> tuple[Any, ...]:
    address = child["address"]
    return (
        child["firstName"],
        child["lastName"],
        child["dateOfBirth"],
        child["gender"],
        None if address is None else tuple(address[k] for k in ("line1", "line2", "town", "postcode")),
        tuple(sorted(s["code"] for s in child["settings"])),
    )


class Consumer:
    """What a ContactPoint consumer keeps: a mirror and its position in the feed."""

    def __init__(self, api: Api, token: str, batch: int) -> None:
        self.api, self.token, self.batch = api, token, batch
        self.mirror: Mirror = {}
        self.cursor: str | None = None
        self.cursors: list[str] = []

    async def poll(self) -> None:
        """Read pages until the feed says there is no more."""
        while True:
            page = (await self.api.ok(FEED, {"after": self.cursor, "first": self.batch}, self.token))[
                "contactPointChanges"
            ]
            for change in page["changes"]:
                self.cursors.append(change["cursor"])
                if change["kind"] == "UPSERT":
                    self.mirror[change["childId"]] = fed_state(change["child"])
                else:
                    assert change["child"] is None
                    self.mirror.pop(change["childId"], None)
            self.cursor = page["endCursor"] or self.cursor
            if not page["hasMore"]:
                return


async def current_children(app: Any) -> Mirror:
    """The truth: every child still in a family, read from the database itself."""
    async with app.state.sessionmaker() as session:
        settings = dict((await session.execute(select(Setting.id, Setting.code))).all())
        involved: dict[int, set[str]] = {}
        for family_id, registered in (await session.execute(select(Family.id, Family.registered_setting_id))).all():
            involved[family_id] = {settings[registered]}
        rows = await session.execute(select(Affiliation.family_id, Affiliation.setting_id, Affiliation.revoked_at))
        for family_id, setting_id, revoked_at in rows.all():
            if revoked_at is None:
                involved[family_id].add(settings[setting_id])
        children = await session.execute(
            select(Child, Family).join(Family, Family.id == Child.family_id).where(Child.left_on.is_(None))
        )
        return {
            encode_id("Child", child.id): (
                child.first_name,
                child.last_name,
                None if child.date_of_birth is None else child.date_of_birth.isoformat(),
                child.gender,
                (family.address_line1, family.address_line2, family.town, family.postcode),
                tuple(sorted(involved[family.id])),
            )
            for child, family in children.all()
        }


@pytest.fixture
def feed_token(world: World) -> str:
    return world.tokens["CONTACTPOINT_FEED"]


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def test_only_the_contactpoint_service_account_reads_the_feed(api: Api, world: World) -> None:
    for role, token in {**world.tokens, "SYSTEM_ADMINISTRATOR": world.admin_token}.items():
        body = await api.post("{ contactPointChanges(first: 1) { hasMore } settings { code } }", {}, token)
        if role == "CONTACTPOINT_FEED":
            assert not body.get("errors")
        else:
            assert codes(body) == ["FORBIDDEN"], role
            assert body["data"]["contactPointChanges"] is None
            assert body["data"]["settings"], role  # the rest of the response is intact


async def test_the_feed_holds_the_fed_fields_and_nothing_else(api: Api, world: World) -> None:
    introspect = """{ __type(name: "ContactPointChild") { fields { name } }
                      change: __type(name: "ContactPointChange") { fields { name } } }"""
    data = await api.ok(introspect, {}, world.tokens["CONTACTPOINT_FEED"])
    assert {f["name"] for f in data["__type"]["fields"]} == FED_FIELDS
    assert {f["name"] for f in data["change"]["fields"]} == {"cursor", "kind", "childId", "at", "child"}


@pytest.mark.parametrize("batch", [1, 7, 5000])
async def test_replaying_from_the_start_yields_exactly_the_current_children(
    api: Api, app: Any, world: World, feed_token: str, batch: int
) -> None:
    consumer = Consumer(api, feed_token, batch)
    await consumer.poll()
    assert consumer.mirror == await current_children(app)
    assert consumer.cursors == sorted(consumer.cursors, key=lambda c: int(_key(c)))  # strictly increasing
    assert len(set(consumer.cursors)) == len(consumer.cursors)


def _key(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(":")[1]


async def test_each_fed_change_reaches_the_mirror(
    api: Api, app: Any, world: World, centre: Centre, feed_token: str
) -> None:
    consumer = Consumer(api, feed_token, 50)
    await consumer.poll()
    family = await centre.family(api, unique_name())
    await consumer.poll()
    assert consumer.mirror[family.child_id][0] == "Sam"
    steps: list[tuple[str, dict[str, Any]]] = [
        (RENAME, {"id": family.child_id, "v": 1, "n": "Samir"}),
        (MOVE,
         {"id": family.id, "a": {"line1": "9 New Street", "town": "Leeds", "postcode": "LS1 4AP"}}),
        (AFFILIATE, {"input": {"familyId": family.id, "settingId": world.settings["C"], "consentGivenBy": "Alex",
                               "consentDate": "2026-11-03"}}),
    ]  # fmt: skip
    for query, variables in steps:
        await api.ok(query, variables, centre.manager)
        await consumer.poll()
        assert consumer.mirror == await current_children(app)
    assert consumer.mirror[family.child_id][0] == "Samir"
    assert consumer.mirror[family.child_id][4][0] == "9 New Street"
    assert "CCC" in consumer.mirror[family.child_id][5]
    # A child who leaves is REMOVED; a refused or invalid write leaves no change at all.
    newborn = {"firstName": "Ivy", "lastName": "Lee", "gender": "FEMALE"}
    add = "mutation($f: ID!, $i: ChildInput!) { addChild(familyId: $f, input: $i) { id } }"
    second = (await api.ok(add, {"f": family.id, "i": newborn}, centre.manager))["addChild"]["id"]
    leave = 'mutation($p: ID!) { removeFromFamily(personId: $p, leftOn: "2026-11-20", reason: "moved") }'
    await api.ok(leave, {"p": family.child_id}, centre.manager)
    await consumer.poll()
    assert family.child_id not in consumer.mirror and second in consumer.mirror
    before = consumer.cursor
    refused = await api.post(add, {"f": family.id, "i": {**newborn, "ethnicity": "ZZZZ"}}, centre.manager)
    assert codes(refused) == ["BAD_USER_INPUT"]
    await consumer.poll()
    assert consumer.cursor == before
    assert consumer.mirror == await current_children(app)


@pytest.mark.concurrent_writes
async def test_concurrent_writers_never_make_a_polling_consumer_skip_a_change(
    api: Api, app: Any, world: World, centre: Centre, feed_token: str
) -> None:
    consumer = Consumer(api, feed_token, 5)
    await consumer.poll()
    families = [await centre.family(api, unique_name()) for _ in range(4)]

    async def writer(index: int) -> None:
        family = families[index]
        for version in range(1, 6):
            await api.ok(
                RENAME, {"id": family.child_id, "v": version, "n": NAMES[index] + "abcde"[version - 1]}, centre.manager
            )
        await centre.family(api, unique_name())

    done = asyncio.Event()

    async def poller() -> None:
        while not done.is_set():
            await consumer.poll()
            await asyncio.sleep(0)

    polling = asyncio.create_task(poller())
    try:
        await asyncio.gather(*(writer(i) for i in range(len(families))))
    finally:
        done.set()
        await polling
    await consumer.poll()
    assert consumer.mirror == await current_children(app)


async def test_compaction_keeps_what_every_replay_converges_to(
    api: Api, app: Any, config: Any, world: World, centre: Centre, feed_token: str
) -> None:
    family = await centre.family(api, unique_name())
    await api.ok(RENAME, {"id": family.child_id, "v": 1, "n": "Ray"}, centre.manager)
    midway = Consumer(api, feed_token, 3)
    await midway.poll()
    midway.cursor = midway.cursors[len(midway.cursors) // 2]  # as if it restarted from a saved cursor
    before = Consumer(api, feed_token, 1000)
    await before.poll()
    await compact_feed(config)
    after = Consumer(api, feed_token, 1000)
    await after.poll()
    assert len(after.cursors) < len(before.cursors)
    assert after.mirror == before.mirror == await current_children(app)
    await midway.poll()
    assert midway.mirror == after.mirror


async def test_a_page_reads_the_same_statements_whatever_its_size(
    api: Api, world: World, feed_token: str, count_statements: Any
) -> None:
    counts = []
    for first in (2, 40):
        count_statements.count = 0
        await api.ok(FEED, {"after": None, "first": first}, feed_token)
        counts.append(count_statements.count)
    assert counts[0] == counts[1]
