"""GraphiQL, served by the service itself: the page (web/static/graphiql/index.html, with a
login box) on `GET /graphql` and its pinned assets under `/graphiql/`. The page loads nothing
from elsewhere, and its Content-Security-Policy lets the browser load nothing from elsewhere."""

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
PAGE = ASSETS / "index.html"
ASSETS_PATH = "/graphiql"

# GraphiQL and CodeMirror set style attributes; everything else comes from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def page() -> HTMLResponse:
    return HTMLResponse(PAGE.read_text(encoding="utf-8"), headers={"content-security-policy": CONTENT_SECURITY_POLICY})


def routes() -> list[BaseRoute]:
    return [Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS), name="graphiql")]
