"""GraphiQL works offline and after login: the page and its pinned assets come from the service
itself, and a real headless browser (the system's Chromium, driven by Playwright) logs in through
the page's login box, gets autocomplete from the fetched schema and runs a query."""

import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from demo.seed import DEMO_PASSWORD
from tests.conftest import Api
from tests.test_e2e_http import serving_demo
from web.graphiql import ASSETS, CONTENT_SECURITY_POLICY

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
ABSOLUTE = re.compile(r"""(?:https?:)?//[\w.-]""", re.IGNORECASE)
BROWSER_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


async def page_html(api: Api) -> httpx.Response:
    response = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    return response


async def test_the_page_references_no_external_url_and_every_asset_is_served(api: Api) -> None:
    response = await page_html(api)
    references = REFERENCE.findall(response.text)
    assert len(references) >= 8, references  # three stylesheets, five scripts
    external = [url for url in references if urlsplit(url).scheme not in ("", "data") or url.startswith("//")]
    assert external == []
    for url in references:
        if url.startswith("data:"):
            continue
        asset = await api.client.get(f"/{url}")  # relative to /graphql
        assert asset.status_code == 200, url
        assert asset.content, url


def test_the_pages_own_files_name_no_other_origin() -> None:
    for name in ("index.html", "estart.js", "estart.css"):
        text = (ASSETS / name).read_text(encoding="utf-8")
        assert not ABSOLUTE.search(text), name


async def test_the_page_lets_the_browser_load_from_this_origin_only(api: Api) -> None:
    policy = (await page_html(api)).headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert not ABSOLUTE.search(policy) and "*" not in policy


async def test_the_assets_are_the_pinned_files_with_their_licences() -> None:
    script = (ASSETS / "refetch.sh").read_text(encoding="utf-8")
    pinned = re.findall(r"^(\S+@[\d.]+) (\S+) (\S+) (\S+)$", script, re.MULTILINE)
    assert len(pinned) == 6
    import base64
    import hashlib

    for package, _, name, sha384 in pinned:
        digest = base64.b64encode(hashlib.sha384((ASSETS / name).read_bytes()).digest()).decode()
        assert digest == sha384, f"{name} is not {package}'s pinned file: run {ASSETS / 'refetch.sh'}"
    for licence in ("react", "react-dom", "graphiql", "graphiql-explorer"):
        assert "Permission is hereby granted" in (ASSETS / f"{licence}.LICENSE").read_text(encoding="utf-8")


# --- a real browser ------------------------------------------------------------------------------


def chromium() -> str | None:
    for candidate in (os.environ.get("ESTART_TEST_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with serving_demo(tmp_path_factory.mktemp("graphiql")) as served:
        yield served


@pytest.mark.own_sqlite  # the demo server runs on an SQLite file of its own
def test_serve_says_where_graphiql_is(demo_server: tuple[str, Path]) -> None:
    url, log = demo_server
    assert f"GraphiQL: {url}/graphql" in log.read_text()


@contextlib.asynccontextmanager
async def offline_page(base_url: str) -> AsyncIterator[tuple[Any, list[str], list[str]]]:
    """A page of a headless Chromium that can reach `base_url` and nothing else, with GraphiQL
    loaded; yields it with the requests it tried elsewhere and its errors."""
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium installed (apt-get install -y chromium)")
    from playwright.async_api import Route, async_playwright

    elsewhere: list[str] = []

    async def only_this_origin(route: Route) -> None:
        if route.request.url.startswith(base_url + "/"):
            await route.continue_()
        else:  # the machine is offline as far as the page knows
            elsewhere.append(route.request.url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        try:
            page = await browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            await page.route("**/*", only_this_origin)
            await page.goto(f"{base_url}/graphql", wait_until="load")
            await page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30_000)
            yield page, elsewhere, problems
        finally:
            await browser.close()


@pytest.mark.own_sqlite  # the demo server runs on an SQLite file of its own
async def test_a_browser_logs_in_gets_autocomplete_and_runs_a_query_offline(demo_server: tuple[str, Path]) -> None:
    base_url, _ = demo_server
    async with offline_page(base_url) as (page, elsewhere, problems):
        from playwright.async_api import TimeoutError as PlaywrightTimeout
        from playwright.async_api import expect

        await page.fill("#estart-username", "manager")
        await page.fill("#estart-password", DEMO_PASSWORD)
        await page.click("#estart-login-button")
        # (no page.wait_for_function: the page's Content-Security-Policy forbids its eval)
        await expect(page.locator("#estart-status")).to_contain_text("Logged in as manager", timeout=30_000)
        assert "MANAGER in NORTH" in (await page.text_content("#estart-status") or "")
        editors = await page.evaluate(  # the variables and headers editors below the query
            "[...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map(e => e.CodeMirror.getValue())"
        )
        assert any('"Authorization": "Bearer ' in text for text in editors), editors

        # Autocomplete: the schema was fetched with the token (the page marks its arrival; the
        # editor takes it a moment later, hence a few tries).
        await expect(page.locator("body")).to_have_attribute("data-schema", "loaded", timeout=30_000)
        hints = ""
        for _ in range(10):
            await page.evaluate(
                """() => { const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
                cm.setValue('{ famil'); cm.focus(); cm.setCursor({line: 0, ch: 7}); }"""
            )
            await page.keyboard.press("Control+Space")
            try:
                hints = await page.locator(".CodeMirror-hints").text_content(timeout=3_000) or ""
                break
            except PlaywrightTimeout:
                continue
        assert "families" in hints
        await page.keyboard.press("Escape")

        # A query runs with the token and answers.
        await page.evaluate(
            """() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
            .setValue('{ me { username } families { totalCount } }')"""
        )
        await page.click(".graphiql-execute-button")
        await expect(page.locator(".graphiql-response")).to_contain_text("totalCount", timeout=30_000)
        response = await page.evaluate("document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()")
        assert '"username": "manager"' in response and '"totalCount": 5' in response, response
        assert elsewhere == [] and problems == [], (elsewhere, problems)


@pytest.mark.own_sqlite  # the demo server runs on an SQLite file of its own
async def test_a_password_an_administrator_set_is_changed_in_the_login_box_then_the_schema_loads(
    demo_server: tuple[str, Path],
) -> None:
    """Such a session may run nothing but changePassword (not even the schema's introspection):
    the page asks for a new password instead of showing an empty schema."""
    base_url, _ = demo_server
    set_password, own_password = "a password the admin chose 81", "my very own passphrase 4711"
    async with httpx.AsyncClient(base_url=base_url) as client:

        async def ok(query: str, token: str | None = None) -> dict[str, Any]:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            body = (await client.post("/graphql", json={"query": query}, headers=headers)).json()
            assert "errors" not in body, body
            return body["data"]  # type: ignore[no-any-return]

        admin = (await ok(f'mutation {{ login(username: "sysadmin", password: "{DEMO_PASSWORD}") {{ token }} }}'))[
            "login"
        ]["token"]
        (head,) = (await ok('{ users(search: "head") { nodes { id username } } }', admin))["users"]["nodes"]
        await ok(f'mutation {{ setPassword(userId: "{head["id"]}", password: "{set_password}") }}', admin)

    async with offline_page(base_url) as (page, elsewhere, problems):
        from playwright.async_api import expect

        await page.fill("#estart-username", "head")
        await page.fill("#estart-password", set_password)
        await page.click("#estart-login-button")
        status = page.locator("#estart-status")
        await expect(status).to_contain_text("An administrator set this password", timeout=30_000)
        assert await page.get_attribute("body", "data-schema") != "loaded"
        await page.fill("#estart-new-password", own_password)
        await page.click("#estart-change-button")
        await expect(status).to_contain_text("Password changed", timeout=30_000)
        await expect(page.locator("body")).to_have_attribute("data-schema", "loaded", timeout=30_000)
        assert await page.is_hidden("#estart-new-password")
        assert elsewhere == [] and problems == [], (elsewhere, problems)
    async with httpx.AsyncClient(base_url=base_url) as client:
        login = f'mutation {{ login(username: "head", password: "{own_password}") {{ mustChangePassword }} }}'
        assert (await client.post("/graphql", json={"query": login})).json()["data"]["login"] == {
            "mustChangePassword": False
        }
