"""Bench-only launcher: one uvicorn worker serving one implementation, for workload (e).

    python -m bench.serve --impl service|standard|authz-off|floor --url DATABASE_URL --port 8101 [--cpu 0]

service    create_app(config), the service as deployed
authz-off  create_app(config, schema=build_schema(guards=False)), the same app with no field guards
floor      a bare Starlette endpoint answering the detail document with bench.floor

The configuration is bench.apps.bench_config: as deployed, with the flood limits lifted.
"""

import argparse
import os

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=["service", "standard", "authz-off", "floor"], required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    upgrade(args.url)  # idempotent; keeps the database at the schema of the code this process runs
    uvicorn.run(build(args.impl, args.url), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
