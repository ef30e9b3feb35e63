"""POST /reports/export (API.md "Reports"): the same reports as the API, with the same cells
suppressed the same way, as CSV (RFC 4180) or an XLSX workbook with one sheet per table.

A cell a spreadsheet would read as a formula (one beginning with =, +, -, @, a tab or a carriage
return) is written with a leading apostrophe, so a reach area named "=HYPERLINK(...)" is text.
"""

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import orjson
from openpyxl import Workbook  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from errors import PASSWORD_CHANGE_REQUIRED, BadUserInput, Code, ServiceError
from resolvers import report as reports
from resolvers.context import Context
from resolvers.report import Measure, Period, ReportData
from resolvers.report_data import Dimension
from web.transport import respond, send_error

RULE = (
    "Counts of 1 to 3 are shown as <4; cells that would let one be worked out from the table's rows, "
    "columns or total are shown as *; a rate is suppressed with its numerator or when its base is below 4,"
    " and shown as - where there is no base (no births figure)."
)
# What a spreadsheet may read as the start of a formula (OWASP's CSV injection list), and the
# fullwidth forms some spreadsheets read as the same signs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
STATUS = {Code.UNAUTHENTICATED: 401, Code.FORBIDDEN: 403, Code.BAD_USER_INPUT: 400, Code.NOT_FOUND: 404}
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

ContextFactory = Callable[[Request], Awaitable[Context]]


def neutralised(value: str) -> str:
    """A cell a spreadsheet would read as a formula, quoted; "-" alone (a rate with no base) is
    no formula and is left as the API shows it."""
    return "'" + value if value.startswith(FORMULA_START) and value != "-" else value


def header_block(r: ReportData) -> list[list[str]]:
    return [
        ["Measure", r.measure.value],
        ["By", ", ".join(d.value for d in r.by) or "(total)"],
        ["Period", f"{r.period.value} from {r.period_start.isoformat()}"],
        ["Generated", r.generated_at.isoformat(timespec="seconds")],
        ["Suppression", RULE],
    ]


def table_rows(r: ReportData) -> list[list[str]]:
    rows = [[*(d.value for d in r.by), "Value"]]
    rows += [[*cell.keys, cell.display] for cell in r.cells]
    rows.append([*(["Total"] + [""] * (len(r.by) - 1) if r.by else ["Total"]), r.total.display])
    return rows


def to_csv(data: list[ReportData]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, r in enumerate(data):
        if i:
            writer.writerow([])
        for row in [*header_block(r), [], *table_rows(r)]:
            writer.writerow([neutralised(v) for v in row])
    return out.getvalue().encode("utf-8")


def to_xlsx(data: list[ReportData]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for i, r in enumerate(data, start=1):
        name = f"{i} {r.measure.value}"[:31]
        sheet = book.create_sheet(name)
        for row in [*header_block(r), [], *table_rows(r)]:
            sheet.append([neutralised(v) for v in row])
            for cell in sheet[sheet.max_row]:
                cell.data_type = "s"  # text, never a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def exported(ctx: Context, body: Any) -> tuple[list[ReportData], str]:
    if not isinstance(body, dict):
        raise BadUserInput("Send a JSON object")
    form = body.get("format")
    if form not in MEDIA:
        raise BadUserInput('format must be "csv" or "xlsx"', "format")
    if "quarterlyPack" in body:
        return await reports.quarterly_pack(ctx, str(body["quarterlyPack"])), form
    spec = body.get("input")
    if not isinstance(spec, dict):
        raise BadUserInput("Send input (a ReportInput) or quarterlyPack", "input")
    try:
        measure = Measure(spec["measure"])
        by = [Dimension(d) for d in spec.get("by", [])]
        period = Period(spec["period"])
        start = date.fromisoformat(spec["periodStart"])
    except (KeyError, ValueError, TypeError) as error:
        raise BadUserInput(f"input is not a ReportInput: {error}", "input") from None
    setting = spec.get("settingId")
    if setting is not None and not isinstance(setting, str):
        raise BadUserInput("input.settingId must be an ID", "input.settingId")
    return [await reports.report(ctx, measure, [d.value for d in by], period, start, setting)], form


class ReportExport:
    """The endpoint; `context_of` builds the request's Context as the GraphQL view does."""

    def __init__(self, context_of: ContextFactory, max_body_bytes: int) -> None:
        self.context_of = context_of
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        if len(body) > self.max_body_bytes:
            await send_error(send, 413, Code.QUERY_TOO_COMPLEX, "Request body too large")
            return
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            await send_error(send, 400, Code.BAD_USER_INPUT, "Send a JSON object")
            return
        ctx = await self.context_of(request)
        if ctx.principal is not None and ctx.principal.must_change_password:  # as the GraphQL gate refuses
            error = {"code": Code.FORBIDDEN, "reason": PASSWORD_CHANGE_REQUIRED}
            message = "Change your password first (changePassword)"
            await respond(
                send, 403, orjson.dumps({"data": None, "errors": [{"message": message, "extensions": error}]})
            )
            return
        try:
            data, form = await exported(ctx, payload)
        except ServiceError as error:
            code = Code(error.extensions["code"])
            await send_error(send, STATUS.get(code, 500), code, str(error))
            return
        await ctx.audit.flush_reads()
        content = to_csv(data) if form == "csv" else to_xlsx(data)
        filename = f"report.{form}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        await Response(content, media_type=MEDIA[form], headers=headers)(scope, receive, send)
