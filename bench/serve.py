"""Bench-only launcher: one uvicorn worker serving one implementation, for workload (e).

    python -m bench.serve --impl service|standard|authz-off|floor --url DATABASE_URL --port 8101 [--cpu 0]
                          [--workers N]

service    create_app(config), the service as deployed
authz-off  create_app(config, schema=build_schema(guards=False)), the same app with no field guards
floor      a bare Starlette endpoint answering the detail document with bench.floor

With --workers N above 1, uvicorn's supervisor runs N worker processes, each building the app
from the environment (`from_env`), as `estart serve --workers N` does.

The configuration is bench.apps.bench_config: as deployed, with the flood limits lifted.
"""

import argparse
import os
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.apps import graphql_app
from bench.floor import Floor
from models.db import make_engine
from models.migrate import upgrade
from server import WORKER_STARTUP_SECONDS


def floor_app(url: str) -> Starlette:
    engine = make_engine(url)
    floor = Floor(engine)

    async def graphql(request: Request) -> Response:
        body = orjson.loads(await request.body())
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return Response(b'{"data":null,"errors":[{"message":"Log in first"}]}', media_type="application/json")
        return Response(await floor.family(token.strip(), body["variables"]["id"]), media_type="application/json")

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", healthz)])


def build(impl: str, url: str) -> Starlette:
    return floor_app(url) if impl == "floor" else graphql_app(impl, url)


IMPL_ENV, URL_ENV = "ESTART_BENCH_SERVE_IMPL", "ESTART_BENCH_SERVE_URL"


def from_env() -> Starlette:
    """A worker's app, when uvicorn runs several."""
    return build(os.environ[IMPL_ENV], os.environ[URL_ENV])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["service", "standard", "authz-off", "floor"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    upgrade(args.url)  # idempotent; keeps the database at the schema of the code this process runs
    options: dict[str, Any] = {"host": "127.0.0.1", "port": args.port, "log_level": "warning", "access_log": False}
    if args.workers > 1:
        os.environ[IMPL_ENV], os.environ[URL_ENV] = args.impl, args.url
        uvicorn.run(
            "bench.serve:from_env", factory=True, workers=args.workers,
            timeout_worker_healthcheck=WORKER_STARTUP_SECONDS, **options,
        )  # fmt: skip
    else:
        uvicorn.run(build(args.impl, args.url), **options)


if __name__ == "__main__":
    main()
