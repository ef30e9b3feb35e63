"""Composition: configuration, the Starlette app, and the `estart` command line."""

import argparse
import asyncio
import contextlib
import getpass
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import orjson
import uvicorn
from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from sqlalchemy import func, inspect, select
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData

from auth.authenticator import Authenticator
from authz.enforcer import Decisions
from authz.grants import GrantBook
from config import AppConfig
from errors import BadUserInput, Code
from models import RoleAssignment, User
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from resolvers import contactpoint, geography
from resolvers.context import Audit, Context
from resolvers.loaders import Loaders
from resolvers.reader import Reader
from schema import EstartSchema, build_schema
from web.export import ReportExport
from web.transport import GraphQLRequestGuard, RateLimit, SecurityHeaders, parsed_request, send_error


class GuardedRequest(StarletteRequestAdapter):
    """A request as the view sees it, with the body GraphQLRequestGuard parsed and checked."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.graphql_request = parsed_request(request.scope)


class GraphQLApp(GraphQL[Context, None]):
    request_adapter_class = GuardedRequest

    def __init__(self, config: AppConfig, authenticator: Authenticator, schema: EstartSchema) -> None:
        # No queries by GET: tokens and queries stay out of URLs, proxies and logs.
        super().__init__(schema, graphql_ide="graphiql" if config.graphiql else None, allow_queries_via_get=False)
        self.config = config
        self.authenticator = authenticator

    async def get_context(self, request: Request, response: Any) -> Context:  # type: ignore[override]
        session = request.state.db
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        principal = None
        if scheme.lower() == "bearer" and token:
            principal = await self.authenticator.principal_for(session, token.strip())
        reader = Reader(session)
        return Context(
            session=session,
            reader=reader,
            loaders=Loaders(reader),
            config=self.config,
            authenticator=self.authenticator,
            principal=principal,
            audit=Audit(session, principal),
            request_id=uuid.uuid4().hex[:16],
            client_address=self.authenticator.client_address(
                request.client.host if request.client else None, request.headers.get("x-forwarded-for")
            ),
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        """The body as the guard parsed it: never parsed twice (issue 10: Python's json recursed)."""
        body = getattr(request, "graphql_request", None)
        if body is None:
            raise HTTPException(400, "Send GraphQL operations by POST as application/json")
        return GraphQLRequestData(
            query=body["query"],
            variables=body.get("variables"),
            operation_name=body.get("operationName"),
            extensions=body.get("extensions"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as error:  # Strawberry's own refusals, coded like every other answer
            code = Code.NOT_FOUND if error.status_code == 404 else Code.BAD_USER_INPUT
            await send_error(send, error.status_code, code, error.reason)
            return
        await response(scope, receive, send)


class DatabaseSession:
    """Opens one database session per request and closes it (rolling back anything left)."""

    def __init__(self, app: ASGIApp, sessionmaker: Any) -> None:
        self.app = app
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self.sessionmaker() as session:
            scope.setdefault("state", {})["db"] = session
            await self.app(scope, receive, send)


def create_app(config: AppConfig, schema: EstartSchema | None = None) -> Starlette:
    """The service; `schema` lets bench/ substitute its authorization-off twin."""
    engine = make_engine(config.database_url, statement_timeout_ms=config.statement_timeout_ms)
    sessionmaker = make_sessionmaker(engine)
    decisions = Decisions()
    authenticator = Authenticator(config, GrantBook(decisions))
    view = GraphQLApp(config, authenticator, schema or build_schema(config.limits))
    graphql = RateLimit(
        GraphQLRequestGuard(DatabaseSession(view, sessionmaker), config.limits.max_body_bytes),
        per_token=config.rate_limit_per_token,
        per_address=config.rate_limit_per_address,
        address_of=lambda scope: authenticator.client_address(
            scope["client"][0] if scope.get("client") else None, Headers(scope=scope).get("x-forwarded-for")
        ),
    )

    export = RateLimit(
        DatabaseSession(ReportExport(lambda r: view.get_context(r, None), config.limits.max_body_bytes), sessionmaker),
        per_token=config.rate_limit_per_token,
        per_address=config.rate_limit_per_address,
        address_of=graphql.address_of,
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/reports/export", export, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts)),
            Middleware(SecurityHeaders),
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["POST"],
                allow_headers=["authorization", "content-type"],
            ),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.decisions = decisions
    app.state.authenticator = authenticator
    return app


async def _is_empty(config: AppConfig) -> bool:
    engine = make_engine(config.database_url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    await engine.dispose()
    return "users" not in tables


async def create_admin(config: AppConfig, username: str, password: str, crb: date, trained: date) -> None:
    from auth.passwords import PASSWORD_LENGTH  # the same bounds as createUser

    if not PASSWORD_LENGTH[0] <= len(password) <= PASSWORD_LENGTH[1]:
        raise SystemExit(f"password must be {PASSWORD_LENGTH[0]} to {PASSWORD_LENGTH[1]} characters")
    engine = make_engine(config.database_url)
    authenticator = Authenticator(config, GrantBook(Decisions()))
    async with make_sessionmaker(engine)() as session:
        if await session.scalar(select(func.count()).where(User.username == username.lower())):
            raise SystemExit(f"user {username} already exists")
        user = User(
            username=username.lower(),
            display_name=username,
            password_hash=await authenticator.hash_password(password),
            crb_checked_on=crb,
            data_protection_trained_on=trained,
        )
        session.add(user)
        await session.flush()
        session.add(RoleAssignment(user_id=user.id, role="system_administrator", setting_id=None))
        await session.commit()
    await engine.dispose()


async def compact_feed(config: AppConfig) -> None:
    engine = make_engine(config.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            async for done, top, dropped in contactpoint.compact(session):
                print(f"examined {done:,} of {top:,} changes; dropped {dropped:,}", flush=True)
    finally:
        await engine.dispose()


async def import_postcodes(config: AppConfig, path: str) -> int:
    with open(path, encoding="utf-8-sig") as file:
        rows = geography.parse_postcode_areas(file.read())
    engine = make_engine(config.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            async for done in geography.replace_postcode_areas(session, rows):
                print(f"loaded {done:,} of {len(rows):,} postcodes", flush=True)
            await session.commit()
    finally:
        await engine.dispose()
    return len(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="estart", description="eStart family records service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the database schema")
    admin = commands.add_parser("create-admin", help="create a system administrator")
    admin.add_argument("username")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.add_argument("--crb-checked-on", type=date.fromisoformat, default=date.today())
    admin.add_argument("--data-protection-trained-on", type=date.fromisoformat, default=date.today())
    commands.add_parser("seed-demo", help="load demo settings, users and families")
    commands.add_parser("compact-feed", help="drop superseded changes from the ContactPoint feed's log")
    postcodes = commands.add_parser("import-postcodes", help="replace the postcode list from a CSV file")
    postcodes.add_argument("file")
    serve = commands.add_parser("serve", help="serve GraphQL (migrating an empty database first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    config = AppConfig.from_env()

    if args.command == "migrate":
        upgrade(config.database_url)
    elif args.command == "create-admin":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
        upgrade(config.database_url)
        asyncio.run(create_admin(config, args.username, password, args.crb_checked_on, args.data_protection_trained_on))
        print(f"created system administrator {args.username.lower()}")
    elif args.command == "seed-demo":
        from demo.seed import seed_demo

        upgrade(config.database_url)
        print(asyncio.run(seed_demo(config)))
    elif args.command == "compact-feed":
        asyncio.run(compact_feed(config))
    elif args.command == "import-postcodes":
        try:
            print(f"imported {asyncio.run(import_postcodes(config, args.file)):,} postcodes")
        except BadUserInput as error:
            sys.exit(f"{args.file}: {error}")
    elif args.command == "serve":
        if asyncio.run(_is_empty(config)):
            upgrade(config.database_url)
        # The client address is ours to establish (config.trusted_proxies), not uvicorn's.
        uvicorn.run(create_app(config), host=args.host, port=args.port, proxy_headers=False)


if __name__ == "__main__":
    main()
