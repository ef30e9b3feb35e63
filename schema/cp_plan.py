from datetime import date

import strawberry

from resolvers.ids import encode_id
from resolvers.records import PlanRecord
from schema.enums import CpCategory
from schema.fields import INHERITED, field, guarded, record


@record
class ChildProtectionPlan:
    start_date: date = field(INHERITED)
    end_date: date | None = field(INHERITED)

    @guarded(INHERITED)
    def id(self, root: strawberry.Parent[PlanRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("ChildProtectionPlan", root.id))

    @guarded(INHERITED)
    def category(self, root: strawberry.Parent[PlanRecord]) -> CpCategory:
        return CpCategory(root.category)


@strawberry.input
class CpPlanInput:
    child_id: strawberry.ID
    start_date: date
    category: CpCategory
