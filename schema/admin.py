"""User accounts as the standards run them (standards 4, 15, 16) and the administrator's views
of users and of the audit log. Every type here is returned only by root fields whose resolvers
check the right first (resolvers/user_requests.py, resolvers/admin_views.py)."""

from datetime import date, datetime

import strawberry
from strawberry.types import Info

from resolvers.admin_views import AuditEventRecord
from resolvers.context import Context
from resolvers.ids import encode_id
from resolvers.inputs import AuditFilterData, NewUserRequest
from resolvers.records import SettingRecord
from resolvers.user import UserRecord, user_record
from resolvers.user_requests import Kind, Status, UserRequestRecord
from schema.enums import Category
from schema.fields import resolved, root_checked
from schema.history import FieldChange
from schema.page import PageInfo, page_info_of
from schema.setting import Setting
from schema.user import AssignmentRecord, RoleAssignment, RoleInput, User

strawberry.enum(Kind, name="UserRequestKind")
strawberry.enum(
    Status,
    name="UserRequestStatus",
    description="AWAITING_SECOND_APPROVAL: approved once, and needs a second, different administrator "
    "(a role in all settings or an administrative right).",
)


async def _user(info: Info[Context, None], user_id: int | None) -> UserRecord | None:
    return None if user_id is None else await user_record(info.context, user_id)


@root_checked(
    description="A User Request, role change, password reset or termination form (standards 4, 15, 16): "
    "signed by a setting manager, decided by the eStart Administrator by its deadline (working days)."
)
class UserRequest:
    kind: Kind
    status: Status
    requested_at: datetime
    deadline: date = strawberry.field(
        description="NEW_USER: 5 working days after the request; ROLE_CHANGE and PASSWORD_RESET: 3; "
        "TERMINATION: the same day."
    )
    late: bool = strawberry.field(description="Decided after the deadline, or still outstanding after it.")
    outstanding: bool = strawberry.field(description="PENDING or AWAITING_SECOND_APPROVAL.")
    approvals_needed: int = strawberry.field(description="Administrators who must approve: 1, or 2.")
    decided_at: datetime | None
    decision_reason: str | None = strawberry.field(description="Why it was rejected.")
    first_approved_at: datetime | None
    username: str | None = strawberry.field(description="NEW_USER: the username asked for.")
    display_name: str | None = strawberry.field(description="NEW_USER: the name asked for.")
    reason: str | None = strawberry.field(description="TERMINATION: the reason given.")
    one_time_password: str | None = strawberry.field(
        description="Only in the answer of the approval that issued it (NEW_USER, PASSWORD_RESET), never "
        "stored or shown again: pass it to the user, who must change it at first login."
    )

    @strawberry.field
    def id(self, root: strawberry.Parent[UserRequestRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("UserRequest", root.id))

    @resolved(
        graphql_type=list[RoleAssignment] | None,
        description="NEW_USER: the roles asked for; ROLE_CHANGE: the roles that replace the user's.",
    )
    def roles(self, root: strawberry.Parent[UserRequestRecord]) -> list[AssignmentRecord] | None:
        if root.roles is None:
            return None
        return [AssignmentRecord(role=role, setting_id=setting) for role, setting in root.roles]

    @resolved(graphql_type=User)
    async def requested_by(
        self, root: strawberry.Parent[UserRequestRecord], info: Info[Context, None]
    ) -> UserRecord | None:
        return await _user(info, root.requested_by_id)

    @resolved(graphql_type=User | None)
    async def first_approved_by(
        self, root: strawberry.Parent[UserRequestRecord], info: Info[Context, None]
    ) -> UserRecord | None:
        return await _user(info, root.first_approved_by_id)

    @resolved(graphql_type=User | None)
    async def decided_by(
        self, root: strawberry.Parent[UserRequestRecord], info: Info[Context, None]
    ) -> UserRecord | None:
        return await _user(info, root.decided_by_id)

    @resolved(graphql_type=User | None, description="The user it is about; NEW_USER: the user created, once approved.")
    async def user(self, root: strawberry.Parent[UserRequestRecord], info: Info[Context, None]) -> UserRecord | None:
        return await _user(info, root.user_id)


@root_checked(description="The administrator's worklist: outstanding requests, earliest deadline first.")
class UserRequestReport:
    outstanding: int
    late: int
    awaiting_second_approval: int
    requests: list[UserRequest]


@root_checked
class UserConnection:
    nodes: list[User]
    total_count: int
    page_info: PageInfo = strawberry.field(resolver=page_info_of)


@root_checked(
    description="An audit event. Changed values of family data are listed only for a caller who may read that "
    "category in every setting (never the administrator: no family data)."
)
class AuditEvent:
    at: datetime
    user_name: str | None
    action: str
    category: Category | None
    changes: list[FieldChange]
    policy_version: str = strawberry.field(
        description="SHA-256 of the Casbin model and policy in force when the event was written; "
        '"unrecorded" for events written before versions were recorded.'
    )

    @strawberry.field
    def id(self, root: strawberry.Parent[AuditEventRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("AuditEvent", root.id))

    @resolved(description="The record the event is about, as its own id.")
    def subject_id(self, root: strawberry.Parent[AuditEventRecord]) -> strawberry.ID | None:
        return None if root.subject_id is None else strawberry.ID(root.subject_id)

    @resolved(graphql_type=Setting | None)
    async def setting(
        self, root: strawberry.Parent[AuditEventRecord], info: Info[Context, None]
    ) -> SettingRecord | None:
        return None if root.setting_id is None else await info.context.loaders.setting.load(root.setting_id)


@root_checked
class AuditEventConnection:
    nodes: list[AuditEvent]
    page_info: PageInfo = strawberry.field(resolver=page_info_of)


@strawberry.input
class AuditFilter:
    user_id: strawberry.ID | None = None
    subject_id: strawberry.ID | None = None
    category: Category | None = None
    action: str | None = None
    date_from: datetime | None = strawberry.field(default=None, name="from")
    date_to: datetime | None = strawberry.field(default=None, name="to")

    def data(self) -> AuditFilterData:
        return AuditFilterData(
            user_id=self.user_id,
            subject_id=self.subject_id,
            category=self.category,
            action=self.action,
            date_from=self.date_from,
            date_to=self.date_to,
        )


@strawberry.input
class UserRequestInput:
    username: str
    display_name: str
    crb_checked_on: date
    data_protection_trained_on: date
    roles: list[RoleInput]

    def data(self) -> NewUserRequest:
        return NewUserRequest(
            username=self.username,
            display_name=self.display_name,
            crb_checked_on=self.crb_checked_on,
            data_protection_trained_on=self.data_protection_trained_on,
            roles=[role.data() for role in self.roles],
        )
