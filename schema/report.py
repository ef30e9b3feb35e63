"""Reports (API.md "Reports"): the root fields check REPORTING read and return these types
whole; a report carries counts only, never an identifier, a name or a row."""

from datetime import date, datetime

import strawberry

from resolvers.report import Measure, Period
from resolvers.report_data import Dimension
from resolvers.suppression import Reason
from schema.fields import root_checked

strawberry.enum(Measure, name="Measure")
strawberry.enum(Period, name="Period")
strawberry.enum(Dimension, name="Dimension")
strawberry.enum(Reason, name="SuppressionReason")


@strawberry.input
class ReportInput:
    measure: Measure
    by: list[Dimension]
    period: Period
    period_start: date
    setting_id: strawberry.ID | None = strawberry.UNSET  # absent: every setting the caller reports on


@root_checked
class ReportCell:
    keys: list[str]
    value: float | None
    suppressed: bool
    reason: Reason | None
    display: str


@root_checked
class Report:
    measure: Measure
    by: list[Dimension]
    period: Period
    period_start: date
    cells: list[ReportCell]
    total: ReportCell
    generated_at: datetime
