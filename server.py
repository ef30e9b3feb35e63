"""Composition: configuration, the Starlette app, and the `estart` command line."""

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
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
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

import cli
from auth.authenticator import Authenticator
from authz.enforcer import Decisions
from authz.grants import GrantBook
from config import AppConfig
from errors import BadUserInput, Code, ServiceError
from models import RoleAssignment, User
from models.db import make_engine, make_sessionmaker
from models.migrate import upgrade
from resolvers import contactpoint, geography, transaction, validation
from resolvers.context import Audit, Context
from resolvers.loaders import Loaders
from resolvers.reader import Reader
from schema import EstartSchema, build_schema
from web import graphiql, observe
from web.export import ReportExport
from web.faults import FaultBarrier, request_id_of
from web.health import readiness
from web.server_protocol import protocol_path, request_deadline_protocol
from web.transport import GraphQLRequestGuard, RateLimit, SecurityHeaders, parsed_request, send_error


class GuardedRequest(StarletteRequestAdapter):
    """A request as the view sees it, with the body GraphQLRequestGuard parsed and checked."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.graphql_request = parsed_request(request.scope)


logger = logging.getLogger("estart.server")


class GraphQLApp(GraphQL[Context, None]):
    request_adapter_class = GuardedRequest

    def __init__(self, config: AppConfig, authenticator: Authenticator, schema: EstartSchema) -> None:
        # No queries by GET: tokens and queries stay out of URLs, proxies and logs.
        super().__init__(schema, graphql_ide="graphiql" if config.graphiql else None, allow_queries_via_get=False)
        self.config = config
        self.authenticator = authenticator

    async def get_context(self, request: Request, response: Any) -> Context:  # type: ignore[override]
        session = request.state.db
        request.state.context_session = session
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        principal, refusal = None, None
        if scheme.lower() == "bearer" and token:
            principal = await self.authenticator.principal_for(session, token.strip())
            if principal is None:
                refusal = await self.authenticator.refusal(session, token.strip())
        reader = Reader(session)
        return Context(
            session=session,
            reader=reader,
            loaders=Loaders(reader),
            config=self.config,
            authenticator=self.authenticator,
            principal=principal,
            audit=Audit(session, principal),
            request_id=request_id_of(request.scope),
            token_refusal=refusal,
            client_address=self.authenticator.client_address(
                request.client.host if request.client else None, request.headers.get("x-forwarded-for")
            ),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()  # served from here, with a login box (web/graphiql.py)

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

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """A mutation with an Idempotency-Key that was applied before: its stored response."""
        key = request.headers.get("idempotency-key")
        if key is not None and isinstance(request_data, GraphQLRequestData):
            fingerprint = transaction.request_hash(
                request_data.query or "", request_data.variables, request_data.operation_name
            )
            try:
                stored = await transaction.prepare_key(context, key, fingerprint)
            except ServiceError as error:
                status = 409 if error.code is Code.CONFLICT else 400
                stored = {"data": None, "errors": [{"message": str(error), "extensions": error.extensions}]}
                sub_response.status_code = status
            if stored is not None:
                if sub_response.status_code is None:
                    sub_response.headers["idempotency-replayed"] = "true"
                request.state.stored_response = stored
                return ExecutionResult(data=None, errors=None)
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            root_value=root_value,
            sub_response=sub_response,
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        stored = getattr(request.state, "stored_response", None)
        if stored is not None:
            return stored  # type: ignore[no-any-return]
        response = await super().process_result(request, result)
        return await transaction.finish(request.state.context_session, response)  # type: ignore[arg-type,return-value]


class DatabaseSession:
    """Opens one database session per request and closes it (rolling back anything left)."""

    def __init__(self, app: ASGIApp, sessionmaker: Any) -> None:
        self.app = app
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = self.sessionmaker()
        try:
            scope.setdefault("state", {})["db"] = session
            await self.app(scope, receive, send)
        finally:
            try:
                await session.close()
            except Exception as exc:  # the connection died: SQLAlchemy discards it; the answer stands
                logger.warning("closing a request's database session failed (%s)", type(exc).__name__)


# The collector's thresholds: a young collection every 200,000 allocations net, not 700, and a
# full one a tenth as often. A page of 1,000 families allocates ~200,000 objects (records, rows,
# the response's dicts) that live until the response is sent and hold no cycles, and each young
# collection traverses the survivors of the ones before. The count is net of what is freed, so
# a request whose objects die with it leaves it where it found it. The page without secondary
# fields cost 47.8 ms CPU with the defaults, 42.2 ms at 10,000; at 100,000 it runs no collection
# (three at 10,000, ~2 ms each): 8% less CPU, and 6% less with half its confidential notes masked
# (in-process, PostgreSQL, 30 requests alternated; 250,000 saves nothing more). At 100,000 the
# page of 1,000 families with carers and children took 1.18x (CPU 1.24x) the same page without
# guards, twice in a row, and 0.99x at 200,000 (bench (a), PostgreSQL): most likely a young
# collection set off in the one and not the other. Cycles (an exception's traceback) wait longer to be freed:
# ~200,000 objects at most, some tens of MB.
GC_THRESHOLDS = (200_000, 20, 100)


def settle_heap() -> None:
    """What start-up made (modules, the schema, compiled statements) lives as long as the
    process: moved out of the garbage collector's generations (gc.freeze), so the full
    collections a large response's allocations set off traverse only what requests made. A page
    of 1,000 families with half its confidential notes denied cost ~120 ms CPU, and ~270 ms every
    other request, which a full collection of the whole heap ran in. Then the collector runs
    less often (GC_THRESHOLDS)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(config: AppConfig, schema: EstartSchema | None = None) -> Starlette:
    """The service; `schema` lets bench/ substitute its authorization-off twin."""
    engine = make_engine(config.database_url, statement_timeout_ms=config.statement_timeout_ms, config=config)
    sessionmaker = make_sessionmaker(engine)
    decisions = Decisions()
    authenticator = Authenticator(config, GrantBook(decisions))
    traced = bool(config.trace_exporters)
    view = GraphQLApp(config, authenticator, schema or build_schema(config.limits, traced=traced))
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
        """Liveness: the process answers. Whether it can serve is /readyz."""
        return JSONResponse({"status": "ok"})

    readyz = readiness(engine, config.retry_after_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        settle_heap()
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/reports/export", export, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
        + (graphiql.routes() if config.graphiql else []),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(FaultBarrier, retry_after_seconds=config.retry_after_seconds),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts)),
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
    # Outermost: the request id, one log record and the metrics of every request; GET /metrics.
    app.add_middleware(observe.RequestLog, log_format=config.log_format, metrics_token=config.metrics_token)
    if traced:  # around it: the request's span (web/tracing.py); nothing of OpenTelemetry is imported otherwise
        from web import tracing

        tracing.install(app, engine, config.trace_exporters)
    return app


def app_from_env() -> Starlette:
    """The service configured from the environment, for a process manager running several
    workers: `uvicorn server:app_from_env --factory --workers 4 --no-proxy-headers` (after
    `estart migrate`)."""
    return create_app(AppConfig.from_env())


async def _is_empty(config: AppConfig) -> bool:
    engine = make_engine(config.database_url)
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
    await engine.dispose()
    return "users" not in tables


async def create_admin(config: AppConfig, username: str, password: str, crb: date, trained: date) -> None:
    from auth.passwords import password_problem  # the same rules as createUser

    problem = password_problem(password, username)
    if problem is not None:
        raise SystemExit(problem)
    engine = make_engine(config.database_url)
    authenticator = Authenticator(config, GrantBook(Decisions()))
    async with make_sessionmaker(engine)() as session:
        if await session.scalar(select(func.count()).where(User.username == username.lower())):
            raise cli.Refused(f"user {username} already exists")
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


def parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    top = argparse.ArgumentParser(
        prog="estart", description="eStart family records service", epilog=cli.ENVIRONMENT, formatter_class=formatter
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, epilog: str = cli.ENVIRONMENT) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary, epilog=epilog, formatter_class=formatter)

    command("migrate", "create or upgrade the database schema to this code's migration head; safe to repeat")
    admin = command(
        "create-admin",
        "create a system administrator (the eStart Administrator), under createUser's rules; prompts for the "
        "password twice unless --password-stdin",
    )
    admin.add_argument("username", help="3 to 100 lower-case letters, digits, '.', '_' or '-'")
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password (12 to 256 characters) from standard input"
    )
    admin.add_argument(
        "--crb-checked-on", type=cli.iso_date, default=validation.today(), metavar="YYYY-MM-DD",
        help="date of the enhanced CRB check, not in the future (default today in the UK)",
    )  # fmt: skip
    admin.add_argument(
        "--data-protection-trained-on", type=cli.iso_date, default=validation.today(), metavar="YYYY-MM-DD",
        help="date of the data-protection training, not in the future (default today in the UK)",
    )  # fmt: skip
    seed = command(
        "seed-demo",
        "load the demo settings, users and families; safe to repeat. Its logins share a published password: "
        "refused on a database holding other accounts unless --force",
    )
    seed.add_argument(
        "--force", action="store_true", help="seed even beside accounts other than the demo's (never on real data)"
    )
    command("compact-feed", "drop superseded changes from the ContactPoint feed's log; safe while serving")
    postcodes = command(
        "import-postcodes", "replace the postcode list (reach areas and LSOAs of reports) from a CSV file"
    )
    postcodes.add_argument("file", help="CSV with the columns postcode,reach_area,lsoa")
    command("export-schema", "print the GraphQL schema (SDL) on standard output; uses no database", epilog="")
    serve = command(
        "serve",
        "serve POST /graphql, GraphiQL on GET /graphql when ESTART_GRAPHIQL is true, and GET /healthz. An empty "
        "database is migrated first; one behind the code's migrations is refused unless --migrate",
        epilog=f"{cli.ENVIRONMENT}\n\n{cli.SERVE_ENVIRONMENT}",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--migrate", action="store_true", help="migrate the database to the code's head first")
    serve.add_argument(
        "--workers", type=cli.positive_int, default=1, metavar="N",
        help="worker processes sharing the port (default 1); one per core on a multi-core machine",
    )  # fmt: skip
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "export-schema":
        from schema import printed_sdl

        sys.stdout.write(printed_sdl())
        return
    with cli.plainly(""):
        config = AppConfig.from_env()
        cli.check_database_url(config.database_url)
        if config.trace_exporters:
            from web.tracing import missing_message

            problem = missing_message()
            if problem is not None:
                raise cli.Refused(problem)
    cli.announce(config.log_format, f"database: {cli.shown_database(config.database_url)}")
    with cli.plainly(config.database_url):
        run(args, config)


def run(args: argparse.Namespace, config: AppConfig) -> None:
    if args.command == "migrate":
        upgrade(config.database_url)
        print("the database is at this code's migration head")
    elif args.command == "create-admin":
        cli.check_admin(args.username, None, args.crb_checked_on, args.data_protection_trained_on)
        password = cli.stdin_password() if args.password_stdin else cli.prompted_password()
        username = cli.check_admin(args.username, password, args.crb_checked_on, args.data_protection_trained_on)
        upgrade(config.database_url)
        asyncio.run(create_admin(config, username, password, args.crb_checked_on, args.data_protection_trained_on))
        print(f"created system administrator {username}")
    elif args.command == "seed-demo":
        from demo.seed import NOT_LOADED, PUBLISHED_PASSWORD_WARNING, seed_demo

        upgrade(config.database_url)
        summary = asyncio.run(seed_demo(config, force=args.force))
        print(summary)
        print(PUBLISHED_PASSWORD_WARNING, file=sys.stderr)
        if summary.startswith(NOT_LOADED):
            raise SystemExit(1)
    elif args.command == "compact-feed":
        asyncio.run(compact_feed(config))
    elif args.command == "import-postcodes":
        try:
            print(f"imported {asyncio.run(import_postcodes(config, args.file)):,} postcodes")
        except BadUserInput as error:
            sys.exit(f"{args.file}: {error}")
    elif args.command == "serve":
        if args.migrate or asyncio.run(_is_empty(config)):
            upgrade(config.database_url)
        cli.require_current_schema(config.database_url)
        url, warning = cli.address_check(args.host, args.port, config.allowed_hosts)
        if warning is not None:
            cli.announce(config.log_format, f"warning: {warning}")
        if config.graphiql:
            cli.announce(config.log_format, f"GraphiQL: {url} (log in with the box at its top)", sys.stdout)
        if config.log_format == "json":
            observe.json_logging_for_uvicorn()
        uvicorn.run(**serve_options(args, config))


WORKER_STARTUP_SECONDS = 60


def serve_options(args: argparse.Namespace, config: AppConfig) -> dict[str, Any]:
    """uvicorn.run's arguments for `estart serve`. One worker serves the app built here; several
    are separate processes, each building it from the environment (app_from_env) and importing
    the HTTP protocol by name. uvicorn picks uvloop where it is installed; the protocol is
    httptools' where it is (web/server_protocol.py). The request log (web/observe.py) says what
    uvicorn's access log would, so that is off: no second log line per request."""
    common: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "proxy_headers": False,  # the client address is ours to establish (config.trusted_proxies)
        "timeout_keep_alive": config.http_keep_alive_seconds,
        "access_log": False,
    }
    if args.workers > 1:
        # a worker builds the schema before it answers the supervisor's health checks, which on
        # a busy machine takes longer than uvicorn's 5 s: it would be killed and restarted forever
        return {
            "app": "server:app_from_env",
            "factory": True,
            "workers": args.workers,
            "http": protocol_path(),
            "timeout_worker_healthcheck": WORKER_STARTUP_SECONDS,
            **common,
        }
    return {"app": create_app(config), "http": request_deadline_protocol(config.http_request_timeout_seconds), **common}


if __name__ == "__main__":
    main()
