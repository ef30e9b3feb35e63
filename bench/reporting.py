"""Issue 14's workloads: `report` as `bench-reporting` (LA_REPORTING, every setting) — registered
children by age band (q1) and by setting and age band (q2) for the quarter July–September 2026 —
against a floor that runs the same GROUP BY directly (auth, one hand-written GROUP BY, the
report's audit event) and serializes the counts with orjson.

The floor does no disclosure control, so its answer cannot equal the service's: the check
instead holds every cell the service shows to the floor's count, every cell it suppresses as
PRIMARY to a count of 1 to 3, and authz-off's answer to the service's. The ratio service / floor
is thus what the report costs beyond counting: the suppressed lattice (resolvers/suppression.py)
and GraphQL.
"""

from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, case, func, insert, literal, or_, select

from authz.categories import Action, Category
from bench.apps import Setup
from bench.floor import AUDIT, F, Floor, K, S
from bench.records import GRAPHQL_IMPLS
from bench.workloads import Call, Workload, graphql_call
from models.base import utcnow

PERIOD_START, PERIOD_END = date(2026, 7, 1), date(2026, 10, 1)
BANDS = ["0-1", "1-2", "2-3", "3-4", "4-5"]  # then "5+"
REPORTS = {"q1": ["AGE_BAND"], "q2": ["SETTING", "AGE_BAND"]}
NAMES = {"AGE_BAND": "age band", "SETTING": "setting"}
REPORT_QUERY = """query Report($input: ReportInput!) {
  report(input: $input) {
    measure by period periodStart
    cells { keys value suppressed reason display }
    total { keys value suppressed reason display }
  }
}"""


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_band() -> ColumnElement[Any]:
    """A child's age band on the period's last day."""
    last = PERIOD_END - timedelta(days=1)
    whens: list[tuple[Any, Any]] = [(K.c.date_of_birth.is_(None), literal("UNKNOWN"))]
    whens += [(K.c.date_of_birth > _years_before(last, n + 1), literal(band)) for n, band in enumerate(BANDS)]
    return case(*whens, else_=literal("5+"))


def group_by(by: list[str]) -> Any:
    """Children registered at the period's end, counted by `by` in one GROUP BY."""
    keys: list[ColumnElement[Any]] = []
    source: Any = F.join(K, K.c.family_id == F.c.id)
    for name in by:
        if name == "SETTING":
            source = source.join(S, S.c.id == F.c.registered_setting_id)
            keys.append(S.c.code.label(name))
        else:
            keys.append(age_band().label(name))
    inner = (
        select(*keys, K.c.id.label("unit"))
        .select_from(source)
        .where(
            F.c.received_on < PERIOD_END,
            or_(K.c.left_on.is_(None), K.c.left_on >= PERIOD_END),
            or_(K.c.date_of_birth.is_(None), K.c.date_of_birth < PERIOD_END),
        )
        .subquery()
    )
    grouped = [inner.c[name] for name in by]
    return select(*grouped, func.count(func.distinct(inner.c.unit)).label("n")).group_by(*grouped)


async def floor_report(floor: Floor, token: str, by: list[str]) -> bytes:
    statement = group_by(by)
    async with floor.engine.connect() as connection:
        principal = await floor.principal(connection, token)
        assert principal.grants.settings_for(Category.REPORTING, Action.READ) is None  # authority-wide
        rows = (await connection.execute(statement)).all()
        event = {
            "at": utcnow(), "user_id": principal.user_id, "setting_id": None, "action": "report",
            "category": Category.REPORTING.name, "record_type": "Report", "record_id": None, "family_id": None,
            "changes": {"measure": "REGISTERED_CHILDREN", "by": by},
        }  # fmt: skip
        await connection.execute(insert(AUDIT), [event])
        await connection.commit()
    cells = [{"keys": list(row[:-1]), "value": row[-1]} for row in rows]
    total = {"keys": [], "value": sum(row[-1] for row in rows)}
    return orjson.dumps({"data": {"report": {"cells": cells, "total": total}}})


def check(floor_body: bytes, service_body: bytes) -> str:
    """Every cell the service shows is the floor's count; a PRIMARY-suppressed one is 1 to 3."""
    floor = orjson.loads(floor_body)["data"]["report"]
    counts = {tuple(cell["keys"]): cell["value"] for cell in floor["cells"]}
    counts[()] = floor["total"]["value"]
    report = orjson.loads(service_body)["data"]["report"]
    cells = [*report["cells"], report["total"]]
    suppressed = 0
    for cell in cells:
        expected = counts.get(tuple(cell["keys"]), 0)
        if not cell["suppressed"]:
            assert cell["value"] == expected, f"cell {cell['keys']}: service {cell['value']}, floor {expected}"
        else:
            suppressed += 1
            assert cell["reason"] != "PRIMARY" or 1 <= expected <= 3, f"cell {cell['keys']} suppressed: {expected}"
    return f"{len(cells)} cells and total, {suppressed} suppressed; the others equal the floor's counts"


async def workloads(s: Setup) -> list[Workload]:
    token = s.tokens["reporting"]
    found = []
    for key, by in REPORTS.items():
        variables = {
            "input": {
                "measure": "REGISTERED_CHILDREN",
                "by": by,
                "period": "QUARTER",
                "periodStart": PERIOD_START.isoformat(),
            }
        }
        calls: dict[str, Call] = {
            "floor": _floor_call(s.floor, token, by),
            **{impl: graphql_call(s, impl, REPORT_QUERY, variables, token) for impl in GRAPHQL_IMPLS},
        }
        found.append(
            Workload(key, f"({key}) children by {' × '.join(NAMES[b] for b in by)}, a quarter", 0, calls,
                     {"authz-off": "service", "standard": "service"},
                     check=lambda bodies: check(bodies["floor"], bodies["service"]))
        )  # fmt: skip
    return found


def _floor_call(floor: Floor, token: str, by: list[str]) -> Call:
    return lambda: floor_report(floor, token, by)
