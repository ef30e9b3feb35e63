from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from auth.login_attempt import LoginLockKind
from resolvers.compliance import ComplianceWarning
from resolvers.context import Context
from resolvers.ids import encode_id
from resolvers.inputs import NewUser, RoleData
from resolvers.records import SettingRecord
from resolvers.user import UserRecord
from schema.enums import Role
from schema.fields import public, resolved, root_checked
from schema.setting import Setting

strawberry.enum(LoginLockKind, name="LoginLockKind")
strawberry.enum(ComplianceWarning, name="ComplianceWarning")


@strawberry.enum(description="DEACTIVATED: deactivateUser; TERMINATED: an approved termination, for good.")
class UserStatus(Enum):
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"
    TERMINATED = "TERMINATED"


@dataclass(slots=True)
class AssignmentRecord:
    role: str
    setting_id: int | None


@root_checked
class RoleAssignment:
    role: Role

    @resolved(graphql_type=Setting | None, description="null means all settings")
    async def setting(
        self, root: strawberry.Parent[AssignmentRecord], info: Info[Context, None]
    ) -> SettingRecord | None:
        return None if root.setting_id is None else await info.context.loaders.setting.load(root.setting_id)


@root_checked  # me: the caller; users, createUser, deactivateUser: USER_ADMIN; login: through Session;
# userRequests and the request mutations: the requester (USER_REQUEST) or USER_ADMIN
class User:
    username: str
    display_name: str
    last_login_at: datetime | None
    crb_checked_on: date | None = strawberry.field(description="Enhanced CRB check (standards 4).")
    data_protection_trained_on: date | None = strawberry.field(description="Data-protection training (standards 4).")

    @strawberry.field
    def status(self, root: strawberry.Parent[UserRecord]) -> UserStatus:
        return UserStatus(root.status)

    @resolved(description="The CRB check lapses ESTART_CRB_RENEWAL_YEARS (default 3) after it was made.")
    def crb_expires_on(self, root: strawberry.Parent[UserRecord]) -> date | None:
        return None if root.compliance is None else root.compliance.crb_expires_on

    @resolved(description="Data-protection training lapses a year after it was taken.")
    def data_protection_training_expires_on(self, root: strawberry.Parent[UserRecord]) -> date | None:
        return None if root.compliance is None else root.compliance.training_expires_on

    @resolved(
        description="Due within 30 days, or expired: an expired one refuses login (COMPLIANCE_EXPIRED) until "
        "recordCompliance records the renewal."
    )
    def compliance_warnings(self, root: strawberry.Parent[UserRecord]) -> list[ComplianceWarning]:
        return [] if root.compliance is None else list(root.compliance.warnings)

    @strawberry.field
    def id(self, root: strawberry.Parent[UserRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("User", root.id))

    @resolved(graphql_type=list[RoleAssignment])
    def roles(self, root: strawberry.Parent[UserRecord]) -> list[AssignmentRecord]:
        return [AssignmentRecord(role=role, setting_id=setting) for role, setting in root.roles]


@public  # returned by login alone, to the caller it logs in
class Session:
    token: str
    expires_at: datetime
    user: User
    must_change_password: bool | None = strawberry.field(
        default=False,
        description="True when an administrator set the password (createUser, setPassword): until "
        "changePassword succeeds, the session may run only changePassword, logout and me; anything else is "
        "FORBIDDEN with extensions.reason PASSWORD_CHANGE_REQUIRED.",
    )


@root_checked(description="Failed logins counted against an account or a client address, and its lock if any.")
class LoginLock:
    kind: LoginLockKind
    key: str = strawberry.field(
        description="ACCOUNT: the username when it names a user, else the 16-hex-digit fingerprint the audit "
        "trail uses (what was typed may have been a password); ADDRESS: the client address, as unlockAddress takes it."
    )
    username: str | None = strawberry.field(
        description="ACCOUNT naming a user: the username, as unlockUser takes it; otherwise null (a name no "
        "user has locks no account, and its lock ends by itself)."
    )
    failures: int = strawberry.field(description="Failures counted in the current window; a lock starts them again.")
    lockouts: int = strawberry.field(
        description="Consecutive locks: each lasts twice as long as the one before, up to a cap."
    )
    locked_until: datetime | None = strawberry.field(description="Null when not locked, only throttled.")
    last_failure_at: datetime


@strawberry.input
class RoleInput:
    role: Role
    setting_id: strawberry.ID | None = None

    def data(self) -> RoleData:
        return RoleData(role=self.role, setting_id=self.setting_id)


@strawberry.input
class UserInput:
    username: str
    display_name: str
    password: str
    crb_checked_on: date
    data_protection_trained_on: date
    roles: list[RoleInput]

    def data(self) -> NewUser:
        return NewUser(
            username=self.username,
            display_name=self.display_name,
            password=self.password,
            crb_checked_on=self.crb_checked_on,
            data_protection_trained_on=self.data_protection_trained_on,
            roles=[role.data() for role in self.roles],
        )


@strawberry.input
class SettingInput:
    code: str
    name: str
