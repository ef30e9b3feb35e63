from datetime import date, datetime

import strawberry
from strawberry.types import Info

from resolvers.batching import Known
from resolvers.context import Context
from resolvers.ids import encode_id
from resolvers.records import AffiliationRecord, SettingRecord
from schema.fields import INHERITED, field, guarded, record
from schema.setting import Setting


@record
class Affiliation:
    consent_given_by: str = field(INHERITED)
    consent_date: date = field(INHERITED)
    revoked_at: datetime | None = field(INHERITED)

    @guarded(INHERITED)
    def id(self, root: strawberry.Parent[AffiliationRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("Affiliation", root.id))

    @guarded(INHERITED, graphql_type=Setting)
    def setting(
        self, root: strawberry.Parent[AffiliationRecord], info: Info[Context, None]
    ) -> Known[SettingRecord | None]:
        return info.context.loaders.setting_of(root.setting_id)


@strawberry.input
class AffiliationInput:
    family_id: strawberry.ID
    setting_id: strawberry.ID
    consent_given_by: str
    consent_date: date
