"""Issue 14's workloads: `report` as `bench-reporting` (LA_REPORTING, every setting) — registered
children by age band (q1) and by setting and age band (q2) for the quarter July–September 2026 —
against a floor that runs the same GROUP BY directly (auth, one hand-written GROUP BY, the
report's audit event) and serializes the counts with orjson; and `quarterlyPack` for that
quarter (q3) against a floor of one hand-written GROUP BY per table of the pack (its audit
events in one insert).

The floor does no disclosure control, so its answer cannot equal the service's: the check
instead holds every cell the service shows to the floor's count, every cell it suppresses as
PRIMARY to a count of 1 to 3, and authz-off's answer to the service's. The ratio service / floor
is thus what the report costs beyond counting: the suppressed lattice (resolvers/suppression.py)
and GraphQL.
"""

from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, case, func, insert, literal, or_, select, text, union_all

from authz.categories import Action, Category
from bench.activities import ACT, ATT, SES
from bench.apps import Setup
from bench.floor import AUDIT, A, F, Floor, K, S
from bench.records import GRAPHQL_IMPLS
from bench.workloads import Call, Workload, graphql_call
from models import Contact, Form, PostcodeArea
from models.base import utcnow
from resolvers.report_data import ETHNIC_GROUPS

PERIOD_START, PERIOD_END = date(2026, 7, 1), date(2026, 10, 1)
BANDS = ["0-1", "1-2", "2-3", "3-4", "4-5"]  # then "5+"
REPORTS = {"q1": ["AGE_BAND"], "q2": ["SETTING", "AGE_BAND"]}
NAMES = {"AGE_BAND": "age band", "SETTING": "setting"}
PACK_QUARTER = "2026-Q3"
PACK_QUERY = """query Pack($quarter: String!) {
  quarterlyPack(quarter: $quarter) {
    measure by
    cells { keys value suppressed reason display }
    total { keys value suppressed reason display }
  }
}"""
CONTACT: Table = Contact.__table__  # type: ignore[assignment]
FORM: Table = Form.__table__  # type: ignore[assignment]
AREA: Table = PostcodeArea.__table__  # type: ignore[assignment]
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
    """Every cell the service shows is the floor's count; a PRIMARY-suppressed one is 0 to 3 (0: a
    part of a total under 4, README "Reports")."""
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
            assert cell["reason"] != "PRIMARY" or expected <= 3, f"cell {cell['keys']} suppressed: {expected}"
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
    return [*found, pack_workload(s)]


def _floor_call(floor: Floor, token: str, by: list[str]) -> Call:
    return lambda: floor_report(floor, token, by)


# The quarterly pack (q3) -----------------------------------------------------------------------


def _registered_children() -> list[Any]:
    return [
        F.c.received_on < PERIOD_END,
        or_(K.c.left_on.is_(None), K.c.left_on >= PERIOD_END),
        or_(K.c.date_of_birth.is_(None), K.c.date_of_birth < PERIOD_END),
    ]


def _in_scope(family_id: Any, setting_id: Any) -> ColumnElement[bool]:
    """The family is registered with the setting or affiliated to it now."""
    affiliated = (
        select(A.c.id)
        .where(A.c.family_id == family_id, A.c.setting_id == setting_id, A.c.revoked_at.is_(None))
        .exists()
    )
    return or_(F.c.registered_setting_id == setting_id, affiliated)


def pack_statements() -> dict[str, Any]:
    """One GROUP BY per table of the pack (resolvers/report.py PACK), keyed by measure."""
    group = case(*[(K.c.ethnicity == code, literal(g)) for code, g in ETHNIC_GROUPS.items()], else_=literal("UNKNOWN"))
    attended = (
        select(S.c.code, ACT.c.outcome_type, func.count().label("n"))
        .select_from(ATT)
        .join(SES, SES.c.id == ATT.c.session_id)
        .join(ACT, ACT.c.id == SES.c.activity_id)
        .join(F, F.c.id == ATT.c.family_id)
        .join(S, S.c.id == ACT.c.setting_id)
        .where(ATT.c.attended.is_(True), SES.c.date >= PERIOD_START, SES.c.date < PERIOD_END)
        .where(_in_scope(F.c.id, ACT.c.setting_id))
        .group_by(S.c.code, ACT.c.outcome_type)
    )
    items = union_all(
        select(FORM.c.setting_id.label("setting"))
        .where(FORM.c.received_on >= PERIOD_START, FORM.c.received_on < PERIOD_END),
        select(ACT.c.setting_id).join(SES, SES.c.activity_id == ACT.c.id)
        .where(SES.c.date >= PERIOD_START, SES.c.date < PERIOD_END, SES.c.date <= date.today()),
        select(CONTACT.c.setting_id).where(CONTACT.c.date >= PERIOD_START, CONTACT.c.date < PERIOD_END),
    ).subquery()  # fmt: skip
    children = select(age_band().label("band"), group.label("group"), func.count().label("n"))
    return {
        "REGISTERED_CHILDREN": children.select_from(F.join(K, K.c.family_id == F.c.id))
        .where(*_registered_children()).group_by(text("1"), text("2")),  # by position: PostgreSQL
        # sees the CASEs' bound parameters as other expressions than the selected ones
        "NEW_REGISTRATIONS": select(S.c.code, func.count()).join(F, F.c.registered_setting_id == S.c.id)
        .where(F.c.received_on >= PERIOD_START, F.c.received_on < PERIOD_END).group_by(S.c.code),
        "REGISTERED_FAMILIES": select(S.c.code, func.count()).join(F, F.c.registered_setting_id == S.c.id)
        .where(F.c.received_on < PERIOD_END).group_by(S.c.code),
        "PENETRATION_RATE": select(AREA.c.reach_area, func.count()).select_from(F.join(K, K.c.family_id == F.c.id)
        .join(AREA, AREA.c.postcode == F.c.postcode)).where(K.c.date_of_birth >= PERIOD_START,
        K.c.date_of_birth < PERIOD_END, K.c.left_on.is_(None)).group_by(AREA.c.reach_area),
        "ATTENDANCES": attended,
        "CONTACTS": select(S.c.code, func.count()).select_from(CONTACT.join(F, F.c.id == CONTACT.c.family_id)
        .join(S, S.c.id == CONTACT.c.setting_id)).where(CONTACT.c.date >= PERIOD_START, CONTACT.c.date < PERIOD_END,
        _in_scope(F.c.id, CONTACT.c.setting_id)).group_by(S.c.code),
        "ENTRIES": select(S.c.code, func.count()).select_from(items.join(S, S.c.id == items.c.setting))
        .group_by(S.c.code),
    }  # fmt: skip


async def floor_pack(floor: Floor, token: str) -> bytes:
    async with floor.engine.connect() as connection:
        principal = await floor.principal(connection, token)
        assert principal.grants.settings_for(Category.REPORTING, Action.READ) is None  # authority-wide
        tables = []
        for measure, statement in pack_statements().items():
            rows = (await connection.execute(statement)).all()
            tables.append({"measure": measure, "cells": [{"keys": list(r[:-1]), "value": r[-1]} for r in rows]})
        events = [
            {"at": utcnow(), "user_id": principal.user_id, "setting_id": None, "action": "report",
             "category": Category.REPORTING.name, "record_type": "Report", "record_id": None, "family_id": None,
             "changes": {"measure": table["measure"]}}
            for table in tables
        ]  # fmt: skip
        await connection.execute(insert(AUDIT), events)
        await connection.commit()
    return orjson.dumps({"data": {"quarterlyPack": tables}})


def check_pack(floor_body: bytes, service_body: bytes) -> str:
    """Each count the service shows is the floor's (ENTRIES: a setting's cells, when all are shown,
    add up to the floor's items; the floor does not split them by timeliness), and every count it
    suppresses as PRIMARY is 1 to 3. Penetration rates are not counts: only their table is there."""
    floor = {t["measure"]: t["cells"] for t in orjson.loads(floor_body)["data"]["quarterlyPack"]}
    service = orjson.loads(service_body)["data"]["quarterlyPack"]
    assert [t["measure"] for t in service] == list(floor), [t["measure"] for t in service]
    compared = suppressed = 0
    for table in service:
        counts = {tuple(c["keys"]): c["value"] for c in floor[table["measure"]]}
        if table["measure"] == "PENETRATION_RATE":
            continue
        if table["measure"] == "ENTRIES":
            by_setting: dict[str, list[dict[str, Any]]] = {}
            for cell in table["cells"]:
                by_setting.setdefault(cell["keys"][0], []).append(cell)
            for code, cells in by_setting.items():
                if not any(c["suppressed"] for c in cells):
                    assert sum(c["value"] for c in cells) == counts.get((code,), 0), f"ENTRIES {code}"
                    compared += 1
            continue
        for cell in table["cells"]:
            expected = counts.get(tuple(cell["keys"]), 0)
            if cell["suppressed"]:
                suppressed += 1
                assert cell["reason"] != "PRIMARY" or expected <= 3, f"{table['measure']} {cell['keys']}"
            else:
                assert cell["value"] == expected, f"{table['measure']} {cell['keys']}: {cell['value']}, {expected}"
                compared += 1
    return f"{len(service)} tables: {compared} cells equal the floor's counts, {suppressed} suppressed"


def pack_workload(s: Setup) -> Workload:
    token = s.tokens["reporting"]
    variables = {"quarter": PACK_QUARTER}
    calls: dict[str, Call] = {
        "floor": lambda: floor_pack(s.floor, token),
        **{impl: graphql_call(s, impl, PACK_QUERY, variables, token) for impl in GRAPHQL_IMPLS},
    }
    return Workload("q3", "(q3) the quarterly pack, July–September 2026", 0, calls,
                    {"authz-off": "service", "standard": "service"},
                    check=lambda bodies: check_pack(bodies["floor"], bodies["service"]))  # fmt: skip
