"""Test fixtures: a migrated database of this run's own, the app over real HTTP semantics
(httpx's ASGI transport), and a world of settings, users per role and families built
through the public API.

ESTART_TEST_DATABASE_URL selects the server: unset means a fresh SQLite file; a PostgreSQL
URL means a fresh database created on that server for this run and dropped after it.

ESTART_EXECUTION selects how queries execute: unset means `oracle` (tests/oracle.py), every
query run by its compiled plan and by graphql-core and the answers compared; a difference
fails the test that sent it. `compiled` or `standard` runs the suite on one path alone.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from config import AppConfig, Limits
from models.migrate import upgrade
from resolvers.validation import today
from schema import compiled
from server import create_app
from tests import oracle

if TYPE_CHECKING:
    from tests.grid import Grid, Records

compiled.default_mode = oracle.ORACLE  # in this process; the servers tests start run compiled


async def _admin_execute(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from fresh_database(tmp_path_factory)


def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of its own: an SQLite file, or a database created on the server
    ESTART_TEST_DATABASE_URL names and dropped afterwards. Each pytest-xdist worker has its
    own (its own temporary directory; a random name, which names the worker too)."""
    requested = os.environ.get("ESTART_TEST_DATABASE_URL")
    if not requested:
        path = Path(tmp_path_factory.mktemp("db")) / "estart-test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    server = make_url(requested)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"estart_test_{worker}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_execute(server.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(
            _admin_execute(
                server.render_as_string(hide_password=False), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )
        )


@pytest.fixture(scope="session")
def config(database_url: str) -> AppConfig:
    return config_for(database_url)


def config_for(database_url: str) -> AppConfig:
    return AppConfig(
        database_url=database_url,
        graphiql=True,
        allowed_hosts=("testserver", "127.0.0.1", "localhost"),
        # Login throttling waits stay near zero in tests (tests/test_login_security.py records them).
        login_delay_seconds=0.001,
        login_delay_max_seconds=0.004,
        # One client sends the whole suite with a few tokens; tests/test_transport.py sets its own.
        rate_limit_per_token=10**9,
        rate_limit_per_address=10**9,
        limits=Limits(max_cost_per_minute=10**12),
    )


@pytest.fixture(scope="session")
async def app(config: AppConfig) -> AsyncIterator[Any]:
    application = create_app(config)
    yield application
    await application.state.engine.dispose()


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        if not oracle.in_shadow():  # the oracle's second run of a query is not the request's
            self.count += 1


_reported = 0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "own_sqlite: the test runs on SQLite files of its own whatever ESTART_TEST_DATABASE_URL names, so a "
        "PostgreSQL run repeats its SQLite run exactly: CI runs it once, with the SQLite suite (.ci/run)",
    )
    config.addinivalue_line(
        "markers",
        "concurrent_writes: the test's queries race other connections' writes, so a second run of a query "
        "may read other rows: the oracle runs them compiled alone (tests/oracle.py)",
    )


@pytest.fixture(autouse=True)
def compiled_execution_agrees(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test during which (or before which, in a fixture) a query's compiled answer
    differed from graphql-core's (tests/oracle.py)."""
    global _reported
    oracle.comparing = request.node.get_closest_marker("concurrent_writes") is None
    yield
    oracle.comparing = True
    new, _reported = oracle.mismatches[_reported:], len(oracle.mismatches)
    if new:
        pytest.fail("compiled execution differs from graphql-core:\n" + "\n\n".join(new), pytrace=False)


# The oracle's counts of each pytest-xdist worker, gathered in the controller as workers finish.
_worker_tallies: list[dict[str, Any]] = []


def pytest_sessionfinish(session: pytest.Session) -> None:
    worker_output = getattr(session.config, "workeroutput", None)  # set in an xdist worker only
    if worker_output is not None:
        worker_output["oracle"] = oracle.tally()


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, in the controller
def pytest_testnodedown(node: Any, error: Any) -> None:
    tally = getattr(node, "workeroutput", {}).get("oracle")
    if tally is not None:
        _worker_tallies.append(tally)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if compiled.execution_mode() == oracle.ORACLE:
        terminalreporter.write_line(oracle.summary(_worker_tallies or [oracle.tally()]))


@pytest.fixture
def count_statements(app: Any) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(app.state.engine.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(app.state.engine.sync_engine, "before_cursor_execute", counter)


@dataclass
class Api:
    """A GraphQL client speaking only what API.md promises."""

    client: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def ok(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        body = await self.post(query, variables, token)
        assert not body.get("errors"), body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    async def login(self, username: str, password: str) -> str:
        data = await self.ok(
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
            {"u": username, "p": password},
        )
        return data["login"]["token"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
async def api(app: Any) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client)


PASSWORD = "correct horse battery staple"
ADMIN = "root-admin"
# Compliance dates recent enough to log in whenever the suite runs (resolvers/compliance.py:
# a CRB check lapses after 3 years, training after 1, and a lapsed one refuses login).
CRB_CHECKED_ON = today() - timedelta(days=300)
TRAINED_ON = CRB_CHECKED_ON + timedelta(days=1)

STAFF_ROLES = [
    "SENIOR_MANAGEMENT",
    "HEAD_OF_CENTRE",
    "MANAGER",
    "SENIOR_ADMINISTRATOR",
    "PARENT_SUPPORT_WORKER",
    "ADMIN_OFFICER",
]
SERVICE_ROLES = ["SYSTEM_ADMINISTRATOR", "CONTACTPOINT_FEED", "LA_REPORTING"]
ALL_ROLES = STAFF_ROLES + SERVICE_ROLES


@dataclass
class Family:
    id: str
    version: int
    carer_id: str
    child_id: str
    affiliation_id: str | None = None
    plan_id: str | None = None


@dataclass
class World:
    """Settings A, B and C; one user per role holding it in setting A (service roles in all
    settings); and the four families of the scope grid:
      own         registered with A
      other       registered with B only
      affiliated  registered with B, affiliated to A with consent
      revoked     registered with B, its affiliation to A revoked
    Each family has a carer and a child, a history note and a confidential note on the
    family, the carer and the child, and an open child protection plan on the child."""

    settings: dict[str, str]
    tokens: dict[str, str]
    families: dict[str, Family]
    admin_token: str
    manager_b: str
    extra: dict[str, Any] = field(default_factory=dict)


async def bootstrap_user(app: Any, username: str, roles: list[dict[str, Any]]) -> None:
    """A user written straight to the database, as `estart create-admin` writes the first
    administrator: the world's users whose roles no administrator may give alone (createUser
    refuses them, authz/duties.py). tests/test_user_requests.py takes the API's way."""
    from models import RoleAssignment, User
    from resolvers.ids import decode_key

    async with app.state.sessionmaker() as session:
        user = User(
            username=username,
            display_name=username.replace("-", " ").title(),
            password_hash=await app.state.authenticator.hash_password(PASSWORD),
            crb_checked_on=CRB_CHECKED_ON,
            data_protection_trained_on=TRAINED_ON,
        )
        session.add(user)
        await session.flush()
        for assignment in roles:
            setting = assignment["settingId"]
            session.add(
                RoleAssignment(
                    user_id=user.id,
                    role=assignment["role"].lower(),
                    setting_id=None if setting is None else decode_key(setting, "Setting"),
                )
            )
        await session.commit()


def given_alone(app: Any, roles: list[dict[str, Any]]) -> bool:
    """Whether one administrator may give `roles` with createUser (authz/duties.py)."""
    from authz.duties import direct_refusal
    from resolvers.ids import decode_key

    assignments = [
        (r["role"].lower(), None if r["settingId"] is None else decode_key(r["settingId"], "Setting")) for r in roles
    ]
    return direct_refusal(app.state.authenticator.sessions.grant_book, assignments) is None


# What the administrator gives a new user; the user replaces it with PASSWORD at the first login
# (an administrator-set password must be changed before the session may do anything else).
INITIAL_PASSWORD = "issued by the administrator 7"
CHANGE_PASSWORD = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"


async def create_user(api: Api, admin_token: str, username: str, roles: list[dict[str, Any]]) -> str:
    """A user created by the administrator who has logged in and chosen PASSWORD; their token.
    Roles no administrator may give alone (authz/duties.py) are written straight to the database."""
    app = api.client._transport.app  # type: ignore[attr-defined]
    if not given_alone(app, roles):
        await bootstrap_user(app, username, roles)
        return await api.login(username, PASSWORD)
    await api.ok(
        """mutation($input: UserInput!) { createUser(input: $input) { id } }""",
        {
            "input": {
                "username": username,
                "displayName": username.replace("-", " ").title(),
                "password": INITIAL_PASSWORD,
                "crbCheckedOn": CRB_CHECKED_ON.isoformat(),
                "dataProtectionTrainedOn": TRAINED_ON.isoformat(),
                "roles": roles,
            }
        },
        admin_token,
    )
    token = await api.login(username, INITIAL_PASSWORD)
    await api.ok(CHANGE_PASSWORD, {"c": INITIAL_PASSWORD, "n": PASSWORD}, token)
    return token


REGISTER = """
mutation($input: RegisterFamilyInput!) {
  registerFamily(input: $input) { id version carers { id } children { id } }
}"""


async def register_family(api: Api, token: str, setting_id: str, surname: str, **extra: Any) -> Family:
    data = (
        await api.ok(
            REGISTER,
            {
                "input": {
                    "settingId": setting_id,
                    "source": "INITIAL_CONTACT",
                    "receivedOn": "2026-11-02",
                    "consentToContact": True,
                    "address": {"line1": "1 Station Road", "town": "Wakefield", "postcode": "WF1 1AA"},
                    "carers": [
                        {
                            "firstName": "Alex",
                            "lastName": surname,
                            "dateOfBirth": "1990-04-01",
                            "gender": "FEMALE",
                            "ethnicity": "WBRI",
                            "language": "ENG",
                            "relationshipToChildren": "MOTHER",
                        }
                    ],
                    "children": [
                        {
                            "firstName": "Sam",
                            "lastName": surname,
                            "dateOfBirth": "2024-03-10",
                            "gender": "MALE",
                            "ethnicity": "WBRI",
                            "language": "ENG",
                        }
                    ],
                    "generalNote": f"General note of {surname}",
                    **extra,
                }
            },
            token,
        )
    )["registerFamily"]
    return Family(data["id"], data["version"], data["carers"][0]["id"], data["children"][0]["id"])


ADD_NOTE = "mutation($input: NoteInput!) { addNote(input: $input) { id } }"
AFFILIATE = """mutation($input: AffiliationInput!) { affiliate(input: $input) { id } }"""


async def populate(api: Api, token: str, family: Family, surname: str) -> None:
    for subject in (family.id, family.carer_id, family.child_id):
        for kind in ("HISTORY", "CONFIDENTIAL"):
            await api.ok(
                ADD_NOTE, {"input": {"subjectId": subject, "kind": kind, "text": f"{kind} note on {surname}"}}, token
            )
    plan = await api.ok(
        "mutation($input: CpPlanInput!) { startChildProtectionPlan(input: $input) { id } }",
        {"input": {"childId": family.child_id, "startDate": "2026-10-01", "category": "NEGLECT"}},
        token,
    )
    family.plan_id = plan["startChildProtectionPlan"]["id"]


async def build_world(api: Api, config: AppConfig) -> World:
    from server import create_admin

    await create_admin(config, ADMIN, PASSWORD, CRB_CHECKED_ON, TRAINED_ON)
    admin_token = await api.login(ADMIN, PASSWORD)
    settings = {}
    for code in ("A", "B", "C"):
        data = await api.ok(
            "mutation($input: SettingInput!) { createSetting(input: $input) { id } }",
            {"input": {"code": f"CC{code}", "name": f"Children's Centre {code}"}},
            admin_token,
        )
        settings[code] = data["createSetting"]["id"]
    tokens = {}
    for role in STAFF_ROLES:
        tokens[role] = await create_user(
            api, admin_token, f"{role.lower().replace('_', '-')}-a", [{"role": role, "settingId": settings["A"]}]
        )
    for role in SERVICE_ROLES:
        tokens[role] = await create_user(
            api, admin_token, f"{role.lower().replace('_', '-')}-all", [{"role": role, "settingId": None}]
        )
    manager_a = tokens["MANAGER"]
    manager_b = await create_user(api, admin_token, "manager-b", [{"role": "MANAGER", "settingId": settings["B"]}])

    families = {
        "own": await register_family(api, manager_a, settings["A"], "Own"),
        "other": await register_family(api, manager_b, settings["B"], "Other"),
        "affiliated": await register_family(api, manager_b, settings["B"], "Affiliated"),
        "revoked": await register_family(api, manager_b, settings["B"], "Revoked"),
    }
    await populate(api, manager_a, families["own"], "Own")
    for name in ("other", "affiliated", "revoked"):
        await populate(api, manager_b, families[name], name.title())
    for name in ("affiliated", "revoked"):
        data = await api.ok(
            AFFILIATE,
            {
                "input": {
                    "familyId": families[name].id,
                    "settingId": settings["A"],
                    "consentGivenBy": "Alex",
                    "consentDate": "2026-11-03",
                }
            },
            manager_b,
        )
        families[name].affiliation_id = data["affiliate"]["id"]
    await api.ok(
        "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }",
        {"id": families["revoked"].affiliation_id},
        manager_b,
    )
    return World(settings, tokens, families, admin_token, manager_b)


@pytest.fixture(scope="session")
async def world(api: Api, config: AppConfig) -> World:
    return await build_world(api, config)


@pytest.fixture(scope="session")
async def grid(api: Api, world: World) -> "Grid":
    """The scope grid of the role-matrix tests (tests/grid.py): read-only, built once."""
    from tests.grid import build_grid

    return await build_grid(api, world)


@pytest.fixture(scope="session")
async def records(api: Api, grid: "Grid") -> "Records":
    """The grid's second part (tests/grid.py): people who left, activities, registers, contacts."""
    from tests.grid import build_records

    return await build_records(api, grid)
