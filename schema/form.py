"""Forms and the timeliness of their entry (standards 5)."""

from datetime import date, datetime
from enum import StrEnum

import strawberry

from resolvers.form import FormRecord
from resolvers.ids import encode_id
from resolvers.inputs import ReferralData
from resolvers.working_days import Deadline
from schema.fields import INHERITED, field, guarded, record, resolved, root_checked

strawberry.enum(Deadline, name="FormKind")
FormRoot = strawberry.Parent[FormRecord]


@strawberry.enum
class ReferralType(StrEnum):
    PROFESSIONAL = "PROFESSIONAL"
    SELF = "SELF"


@record
class Form:
    """Something received that had to be entered within a deadline of working days."""

    deadline: date = field(INHERITED)
    late: bool = field(INHERITED, description="entered after its deadline, or still outstanding past it")
    outstanding: bool = field(INHERITED, description="received but not yet entered")

    @guarded(INHERITED)
    def id(self, root: FormRoot) -> strawberry.ID:
        return strawberry.ID(encode_id(root.type_name, root.id))

    @guarded(INHERITED)
    def kind(self, root: FormRoot) -> Deadline:
        return root.kind

    @guarded(INHERITED)
    def received_on(self, root: FormRoot) -> date:
        return root.received_on

    @guarded(INHERITED)
    def entered_at(self, root: FormRoot) -> datetime | None:
        return root.entered_at

    @guarded(INHERITED)
    def description(self, root: FormRoot) -> str | None:
        return root.description

    @guarded(INHERITED)
    def referral_type(self, root: FormRoot) -> ReferralType | None:
        return None if root.referral_type is None else ReferralType(root.referral_type)

    @guarded(INHERITED)
    def referrer_name(self, root: FormRoot) -> str | None:
        return root.referrer_name

    @guarded(INHERITED)
    def referrer_organisation(self, root: FormRoot) -> str | None:
        return root.referrer_organisation

    @guarded(INHERITED)
    def referral_reason(self, root: FormRoot) -> str | None:
        return root.reason_code

    @guarded(INHERITED)
    def consent_to_contact(self, root: FormRoot) -> bool | None:
        return root.consent_to_contact

    @guarded(INHERITED)
    def consent_date(self, root: FormRoot) -> date | None:
        return root.consent_date


@root_checked  # timeliness: REPORTING and SECONDARY read in the setting
class KindTimeliness:
    kind: Deadline
    received: int
    entered: int
    entered_late: int
    outstanding: int
    outstanding_past_deadline: int


@root_checked
class UserTimeliness:
    user_name: str
    entered: int
    entered_late: int


@root_checked(description="An item entered late or outstanding past its deadline: dates and kind only.")
class LateItem:
    deadline: date
    outstanding: bool

    @resolved(description="a Form, or for a register or contact sheet the session or contact itself")
    def id(self, root: FormRoot) -> strawberry.ID:
        return strawberry.ID(encode_id(root.type_name, root.id))

    @strawberry.field
    def kind(self, root: FormRoot) -> Deadline:
        return root.kind

    @strawberry.field
    def received_on(self, root: FormRoot) -> date:
        return root.received_on

    @strawberry.field
    def entered_at(self, root: FormRoot) -> datetime | None:
        return root.entered_at


@root_checked(description="How promptly a setting entered what it received (standards 5).")
class Timeliness:
    by_kind: list[KindTimeliness]
    by_user: list[UserTimeliness]
    late_items: list[LateItem]


@strawberry.input
class ReferralInput:
    referral_type: ReferralType
    reason: str = strawberry.field(description="a code of the REFERRAL_REASON list")
    referrer_name: str | None = None
    organisation: str | None = None

    def data(self) -> ReferralData:
        return ReferralData(
            referral_type=self.referral_type.value,
            reason=self.reason,
            referrer_name=self.referrer_name,
            organisation=self.organisation,
        )


@strawberry.input
class FormReceivedInput:
    setting_id: strawberry.ID
    kind: Deadline
    received_on: date
    description: str | None = None
