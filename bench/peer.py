"""The peer: PostGraphile 4 (bench/peer/, npm pins it) on the bench's own PostgreSQL database,
against the service, over HTTP, with the same client: issue 17's table.

    python -m bench.run --db postgresql --sizes 1000 --peer     (on by default for PostgreSQL)

1. `npm ci` in bench/peer/ when its node_modules are missing (the npm registry must be reachable
   once); bench/peer/schema.sql onto the seeded database: grants, computed columns and
   row-level security that mask what the service masks (the service connects as the owner, so
   none of it applies to the service).
2. One uvicorn worker of the service (`python -m bench.serve --impl service`) and one Node
   process of PostGraphile, both pinned to the first CPU; this client on the others.
3. Each workload's document is asked of both as the same user (the peer's token is a JWT whose
   claims are that user's grants, authz.grants, as the settings of each right); the peer's
   answer, mapped to the service's names and ids (`as_ours`), must equal the service's `data`
   before anything is timed.
4. Sequential workloads: rounds of requests on one keep-alive connection, the two alternating
   and the order rotated each round; the 10-client point: `drive` (bench/http_rounds.py) in
   interleaved rounds. Ratios are ours / PostGraphile, within the run.
"""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy.engine import make_url

from authz.categories import FAMILY_CATEGORIES, Action
from authz.grants import Grants
from bench import seed as seeding
from bench.apps import Setup
from bench.http_rounds import ROOT, Servers, drive, free_port, stop_servers, wait_healthy
from bench.measure import data_of
from bench.records import HttpPoint, PeerResult
from bench.workloads import CONFIDENTIAL_LIST_QUERY, DETAIL_QUERY, LIST_QUERY, PAGE
from models.db import make_engine
from resolvers.ids import encode_id

PEER_DIR = Path(__file__).resolve().parent / "peer"
JWT_SECRET = "bench-peer-secret-not-for-production"
PEER_IMPLS = ("service", "postgraphile")
CONCURRENT = 10  # clients of the concurrent detail point

# (a) without its SECONDARY fields: what the list costs without masking on either side
PRIMARY_LIST_QUERY = """query Families($first: Int!) {
  families(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      version
      registeredSetting { id code name }
      address { line1 line2 town postcode }
      carers { id firstName lastName dateOfBirth gender }
      children { id firstName lastName dateOfBirth gender }
    }
  }
}"""

# The same documents in PostGraphile's schema (pg-simplify-inflector, simpleCollections both)
_P_NOTE = "id kind text createdAt authorName setting { id code name }"
_P_AFFILIATIONS = (
    "affiliationsList(orderBy: PRIMARY_KEY_ASC) { id consentGivenBy consentDate revokedAt setting { id code name } }"
)


def _peer_list(people: str, extra: str = "", secondary: bool = True) -> str:
    more = f"\n      generalNote\n      {_P_AFFILIATIONS}" if secondary else ""
    return f"""query Families($first: Int!) {{
  families(first: $first, orderBy: PRIMARY_KEY_ASC) {{
    totalCount
    pageInfo {{ hasNextPage }}
    nodes {{
      id
      version
      registeredSetting {{ id code name }}
      addressLine1 addressLine2 town postcode{more}
      carersList(orderBy: PRIMARY_KEY_ASC) {{ {people} }}
      childrenList(orderBy: PRIMARY_KEY_ASC) {{ {people} }}{extra}
    }}
  }}
}}"""


_PEOPLE = "id firstName lastName dateOfBirth gender ethnicity language"
PEER_LIST_QUERY = _peer_list(_PEOPLE)
_P_CONFIDENTIAL = f"confidentialReadable confidentialNotes {{ {_P_NOTE} }}"
PEER_CONFIDENTIAL_LIST_QUERY = _peer_list(_PEOPLE, f"\n      {_P_CONFIDENTIAL}")
PEER_PRIMARY_LIST_QUERY = _peer_list("id firstName lastName dateOfBirth gender", secondary=False)
PEER_DETAIL_QUERY = f"""query Family($id: Int!) {{
  family(id: $id) {{
    id
    version
    registeredSetting {{ id code name }}
    addressLine1 addressLine2 town postcode
    generalNote
    accessRead accessWrite
    {_P_AFFILIATIONS}
    notesList {{ {_P_NOTE} }}
    {_P_CONFIDENTIAL}
    carersList(orderBy: PRIMARY_KEY_ASC) {{
      {_PEOPLE}
      notesList {{ {_P_NOTE} }}
      {_P_CONFIDENTIAL}
      carerChildrenList(orderBy: PRIMARY_KEY_ASC) {{ relationship child {{ id firstName lastName }} }}
    }}
    childrenList(orderBy: PRIMARY_KEY_ASC) {{
      {_PEOPLE}
      notesList {{ {_P_NOTE} }}
      {_P_CONFIDENTIAL}
      childProtectionPlan {{ id startDate endDate category }}
    }}
  }}
}}"""


# The peer's answers in the service's names and ids ------------------------------------------
def _at(value: str | None) -> str | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC).isoformat()


def _setting(s: dict[str, Any]) -> dict[str, Any]:
    return {"id": encode_id("Setting", s["id"]), "code": s["code"], "name": s["name"]}


def _note(n: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": encode_id("Note", n["id"]),
        "kind": n["kind"],
        "text": n["text"],
        "createdAt": _at(n["createdAt"]),
        "authorName": n["authorName"],
        "setting": _setting(n["setting"]),
    }


def _notes(notes: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    return None if notes is None else [_note(n) for n in notes]


def _confidential(record: dict[str, Any]) -> list[dict[str, Any]] | None:
    return _notes(record["confidentialNotes"]) if record["confidentialReadable"] else None


def _person(kind: str, p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": encode_id(kind, p["id"])}
    out.update({k: v for k, v in p.items() if k in ("firstName", "lastName", "dateOfBirth", "gender")})
    for key in ("ethnicity", "language"):
        if key in p:
            out[key] = p[key]
    if "notesList" in p:
        out["notes"] = _notes(p["notesList"])
        out["confidentialNotes"] = _confidential(p)
    if "carerChildrenList" in p:
        out["relationships"] = [
            {
                "relationship": r["relationship"],
                "child": {
                    "id": encode_id("Child", r["child"]["id"]),
                    **{k: r["child"][k] for k in ("firstName", "lastName")},
                },
            }
            for r in p["carerChildrenList"]
        ]
    if "childProtectionPlan" in p:
        plan = p["childProtectionPlan"]
        out["childProtectionPlan"] = (
            None
            if plan is None
            else {
                "id": encode_id("ChildProtectionPlan", plan["id"]),
                **{k: plan[k] for k in ("startDate", "endDate", "category")},
            }
        )
    return out


def _family(f: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": encode_id("Family", f["id"]),
        "version": f["version"],
        "registeredSetting": _setting(f["registeredSetting"]),
        "address": {
            "line1": f["addressLine1"],
            "line2": f["addressLine2"],
            "town": f["town"],
            "postcode": f["postcode"],
        },
    }
    if "generalNote" in f:
        out["generalNote"] = f["generalNote"]
    if "accessRead" in f:
        out["access"] = {"read": f["accessRead"], "write": f["accessWrite"]}
    if "affiliationsList" in f:
        out["affiliations"] = [
            {
                "id": encode_id("Affiliation", a["id"]),
                "consentGivenBy": a["consentGivenBy"],
                "consentDate": a["consentDate"],
                "revokedAt": _at(a["revokedAt"]),
                "setting": _setting(a["setting"]),
            }
            for a in f["affiliationsList"]
        ]
    if "notesList" in f:
        out["notes"] = _notes(f["notesList"])
    if "confidentialNotes" in f:
        out["confidentialNotes"] = _confidential(f)
    out["carers"] = [_person("Carer", p) for p in f["carersList"]]
    out["children"] = [_person("Child", p) for p in f["childrenList"]]
    return out


def _page_as_ours(data: dict[str, Any]) -> dict[str, Any]:
    page = data["families"]
    nodes = [_family(f) for f in page["nodes"]]
    last = page["nodes"][-1]["id"] if page["nodes"] else None
    return {
        "families": {
            "totalCount": page["totalCount"],
            "pageInfo": {
                "hasNextPage": page["pageInfo"]["hasNextPage"],
                "endCursor": None if last is None else encode_id("Cursor", last),
            },
            "nodes": nodes,
        }
    }


def _detail_as_ours(data: dict[str, Any]) -> dict[str, Any]:
    return {"family": None if data["family"] is None else _family(data["family"])}


def _normalise_ours(value: Any) -> Any:
    """The service's timestamps in one spelling (isoformat in UTC), as `as_ours` spells the peer's."""
    if isinstance(value, dict):
        return {k: (_at(v) if k in ("createdAt", "revokedAt") else _normalise_ours(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_ours(v) for v in value]
    return value


# The workloads ---------------------------------------------------------------------------------
@dataclass
class PeerWorkload:
    key: str
    title: str
    ours: str  # the service's document
    peer: str  # the same in PostGraphile's schema
    as_ours: Callable[[dict[str, Any]], dict[str, Any]]
    user: str  # "manager" | "half"
    variables: dict[str, Any]
    peer_variables: dict[str, Any]
    per_round: int  # requests of each per round


def peer_workloads(s: Setup) -> list[PeerWorkload]:
    detail = seeding.detail_family_id(s.n)
    page = {"first": PAGE}
    return [
        PeerWorkload("masked", f"{PAGE:,} families + carers + children + confidential notes, half of them masked "
                     "(bench-half; workload (b))", CONFIDENTIAL_LIST_QUERY, PEER_CONFIDENTIAL_LIST_QUERY,
                     _page_as_ours, "half", page, page, 2),
        PeerWorkload("list", "the same list without the notes, everything visible (bench-manager; workload (a))",
                     LIST_QUERY, PEER_LIST_QUERY, _page_as_ours, "manager", page, page, 2),
        PeerWorkload("primary", "the same list without its SECONDARY fields (manager)", PRIMARY_LIST_QUERY,
                     PEER_PRIMARY_LIST_QUERY, _page_as_ours, "manager", page, page, 3),
        PeerWorkload("detail", "one family with setting, carers, children, affiliations, notes, relationships, "
                     "plans (manager; workload (c)), sequential", DETAIL_QUERY, PEER_DETAIL_QUERY, _detail_as_ours,
                     "manager", {"id": encode_id("Family", detail)}, {"id": detail}, 25),
    ]  # fmt: skip


# Tokens ----------------------------------------------------------------------------------------
def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(claims: dict[str, Any]) -> str:
    """An HS256 JWT PostGraphile accepts (jwtSecret = JWT_SECRET)."""
    head = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    body = _b64(orjson.dumps(claims))
    signature = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def claims_of(grants: Grants) -> dict[str, Any]:
    """The user's reach per family right, as schema.sql reads it: 'all' or the setting ids."""
    claims: dict[str, Any] = {"role": "bench_peer_user", "aud": "postgraphile", "exp": int(time.time()) + 86400}
    for category in FAMILY_CATEGORIES:
        for action in Action:
            settings = grants.settings_for(category, action)
            claims[f"{category.value}_{action.value}"] = "all" if settings is None else sorted(settings)
    return claims


async def peer_token(s: Setup, user: str) -> str:
    async with s.floor.engine.connect() as connection:
        principal = await s.floor.principal(connection, s.tokens[user])
    return jwt(claims_of(principal.grants))


# Setting up ------------------------------------------------------------------------------------
def install() -> None:
    """PostGraphile into bench/peer/node_modules, at the versions package-lock.json pins."""
    if (PEER_DIR / "node_modules" / "postgraphile").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("the peer needs Node.js 18+ and npm on the PATH")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True)


async def apply_schema(url: str) -> None:
    """bench/peer/schema.sql onto the seeded database: one script (asyncpg runs several
    statements in one call when they take no parameters), idempotent."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.execute((PEER_DIR / "schema.sql").read_text())
    finally:
        await engine.dispose()


def _pinned(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def start(s: Setup, cpu: int | None) -> Servers:
    """The service (one uvicorn worker) and PostGraphile (one Node process)."""
    servers: Servers = {}
    port = free_port()
    log = (s.data_dir / "peer-service.log").open("wb")
    command = [sys.executable, "-m", "bench.serve", "--impl", "service", "--url", s.url, "--port", str(port)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    servers["service"] = (subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), port)
    log.close()
    port = free_port()
    url = make_url(s.url)
    where = f"{url.host or '127.0.0.1'}:{url.port or 5432}/{url.database}"
    env = {
        **os.environ,
        "NODE_ENV": "production",
        "DATABASE_URL": f"postgres://bench_peer_authenticator@{where}",
        "JWT_SECRET": JWT_SECRET,
        "PORT": str(port),
    }
    log = (s.data_dir / "peer-postgraphile.log").open("wb")
    process = subprocess.Popen(
        ["node", str(PEER_DIR / "server.js")], cwd=PEER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=_pinned(cpu),
    )  # fmt: skip
    log.close()
    servers["postgraphile"] = (process, port)
    return servers


# Measuring -------------------------------------------------------------------------------------
async def _post(client: httpx.AsyncClient, port: int, document: str, variables: dict[str, Any], token: str) -> bytes:
    response = await client.post(
        f"http://127.0.0.1:{port}/graphql",
        content=orjson.dumps({"query": document, "variables": variables}),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    return response.content


async def _peer_statements(client: httpx.AsyncClient, port: int) -> int:
    return int((await client.get(f"http://127.0.0.1:{port}/__stats")).json()["statements"])


async def check(
    s: Setup, w: PeerWorkload, client: httpx.AsyncClient, servers: Servers, tokens: dict[str, str]
) -> dict[str, float]:
    """The two answers agree (the peer's mapped to the service's names); their sizes in KB."""
    ours = await _post(client, servers["service"][1], w.ours, w.variables, s.tokens[w.user])
    theirs = await _post(client, servers["postgraphile"][1], w.peer, w.peer_variables, tokens[w.user])
    peer_body = orjson.loads(theirs)
    if peer_body.get("errors"):
        raise AssertionError(f"{w.title}: PostGraphile answered errors: {peer_body['errors'][:3]}")
    if _normalise_ours(data_of(ours)) != w.as_ours(peer_body["data"]):
        s.data_dir.mkdir(parents=True, exist_ok=True)
        for name, data in (("service", _normalise_ours(data_of(ours))), ("postgraphile", w.as_ours(peer_body["data"]))):
            (s.data_dir / f"mismatch-peer-{w.key}-{name}.json").write_bytes(
                orjson.dumps(data, option=orjson.OPT_INDENT_2)
            )
        raise AssertionError(
            f"{w.title}: PostGraphile's data differs from the service's "
            f"(both written to {s.data_dir}/mismatch-peer-{w.key}-*.json); nothing was timed"
        )
    return {"service": len(ours) / 1024, "postgraphile": len(theirs) / 1024}


async def sequential(
    w: PeerWorkload, servers: Servers, tokens: dict[str, dict[str, str]], rounds: int, warmup: int
) -> tuple[dict[str, list[float]], float]:
    """Rounds of `per_round` requests each, on one keep-alive connection per implementation,
    alternating with the order rotated; returns latencies (ms) and the peer's statements per request."""
    clients = {impl: httpx.AsyncClient(timeout=120) for impl in PEER_IMPLS}
    latencies: dict[str, list[float]] = {impl: [] for impl in PEER_IMPLS}
    documents = {"service": (w.ours, w.variables), "postgraphile": (w.peer, w.peer_variables)}
    try:
        order = list(PEER_IMPLS)
        before = after = 0
        for round_index in range(warmup + rounds):
            if round_index == warmup:
                before = await _peer_statements(clients["postgraphile"], servers["postgraphile"][1])
            for impl in order:
                document, variables = documents[impl]
                for _ in range(w.per_round):
                    started = time.perf_counter()
                    await _post(clients[impl], servers[impl][1], document, variables, tokens[impl][w.user])
                    if round_index >= warmup:
                        latencies[impl].append((time.perf_counter() - started) * 1000)
            order.reverse()
        after = await _peer_statements(clients["postgraphile"], servers["postgraphile"][1])
    finally:
        for client in clients.values():
            await client.aclose()
    return latencies, (after - before) / max(1, rounds * w.per_round)


async def concurrent(
    w: PeerWorkload, servers: Servers, tokens: dict[str, dict[str, str]], seconds: float, rounds: int
) -> dict[str, HttpPoint]:
    """CONCURRENT clients on the detail document, interleaved rounds."""
    bodies = {
        "service": orjson.dumps({"query": w.ours, "variables": w.variables}),
        "postgraphile": orjson.dumps({"query": w.peer, "variables": w.peer_variables}),
    }
    points: dict[str, HttpPoint] = {}
    order = list(PEER_IMPLS)
    for impl in order:  # warm-up, and the connections' first requests
        headers = {"authorization": f"Bearer {tokens[impl][w.user]}", "content-type": "application/json"}
        await drive(
            f"http://127.0.0.1:{servers[impl][1]}/graphql",
            bodies[impl],
            headers,
            CONCURRENT,
            min(1.0, seconds / rounds),
        )
    for _ in range(rounds):
        for impl in order:
            headers = {"authorization": f"Bearer {tokens[impl][w.user]}", "content-type": "application/json"}
            point = await drive(
                f"http://127.0.0.1:{servers[impl][1]}/graphql", bodies[impl], headers, CONCURRENT, seconds / rounds
            )
            point.impl = impl
            if impl in points:
                points[impl].add(point)
            else:
                points[impl] = point
        order.reverse()
    return points


async def peer_workload(s: Setup, rounds: int, warmup: int, http_seconds: float, http_rounds: int) -> list[PeerResult]:
    """The whole comparison on one seeded PostgreSQL database."""
    await asyncio.to_thread(install)
    await apply_schema(s.url)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    pin = len(cpus) >= 2
    servers = start(s, min(cpus) if pin else None)
    results: list[PeerResult] = []
    try:
        await wait_healthy(s, servers, {"service": "/healthz", "postgraphile": "/__stats"})
        peer_tokens = {user: await peer_token(s, user) for user in ("manager", "half")}
        tokens = {"service": s.tokens, "postgraphile": peer_tokens}
        if pin:
            os.sched_setaffinity(0, cpus - {min(cpus)})
        loads = peer_workloads(s)
        async with httpx.AsyncClient(timeout=120) as client:
            sizes = {w.key: await check(s, w, client, servers, peer_tokens) for w in loads}
            # a token the peer did not sign is refused
            forged = peer_tokens["manager"][:-4] + "AAAA"
            with contextlib.suppress(RuntimeError):  # HTTP 403
                await _post(client, servers["postgraphile"][1], PEER_DETAIL_QUERY, {"id": 1}, forged)
                raise AssertionError("PostGraphile answered a request with a forged token")
        for w in loads:
            latencies, statements = await sequential(w, servers, tokens, rounds, warmup)
            result = PeerResult(w.key, w.title, latencies, sizes[w.key], statements)
            results.append(result)
            print(f"[{s.kind} N={s.n}] peer {w.key:<8} " + "  ".join(
                f"{impl} {result.median(impl):8.2f} ms" for impl in PEER_IMPLS
            ) + f"  ours/peer {result.ratio():5.2f}")  # fmt: skip
            if w.key == "detail":
                points = await concurrent(w, servers, tokens, http_seconds, http_rounds)
                title = f"the same at {CONCURRENT} concurrent clients, one process each"
                results.append(PeerResult("concurrent", title, {}, sizes[w.key], statements, points))
                print(f"[{s.kind} N={s.n}] peer C={CONCURRENT} " + "  ".join(
                    f"{impl} {points[impl].rps:7.0f} req/s" for impl in PEER_IMPLS
                ) + f"  ours/peer {points['service'].rps / points['postgraphile'].rps:5.2f}")  # fmt: skip
        return results
    finally:
        if pin:
            os.sched_setaffinity(0, cpus)
        stop_servers(servers)
