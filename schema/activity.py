"""Activities, sessions, registers and contacts (API.md "Activities, sessions, registers, home
visits"). An activity and its sessions are ACTIVITY data; a register entry and a contact are
SECONDARY data of a family, reached only through fields that decided it."""

from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import activity as activities
from resolvers.activity import ActivityRecord, ActivitySessionRecord, AttendanceRecord, ContactRecord
from resolvers.context import Context
from resolvers.ids import encode_id
from resolvers.inputs import ActivityChanges, AttendanceData, NewActivity, NewContact
from resolvers.records import SettingRecord
from schema.fields import INHERITED, Category, field, guarded, public, record
from schema.page import PageInfo, page_info_of
from schema.setting import Setting

Day = date  # classes below have a field named `date`
From = Annotated[date | None, strawberry.argument(name="from")]
To = Annotated[date | None, strawberry.argument(name="to")]


@strawberry.enum
class Frequency(StrEnum):
    ONCE = "ONCE"
    WEEKLY = "WEEKLY"
    FORTNIGHTLY = "FORTNIGHTLY"
    MONTHLY = "MONTHLY"
    TERMLY = "TERMLY"
    IRREGULAR = "IRREGULAR"


@strawberry.enum
class ContactKind(StrEnum):
    HOME_VISIT = "HOME_VISIT"
    PHONE = "PHONE"
    CENTRE = "CENTRE"
    OUTREACH = "OUTREACH"
    OTHER = "OTHER"


@record
class Attendance:
    """One person's entry on a register: SECONDARY data of their family."""

    person_id: strawberry.ID = field(INHERITED)
    family_id: strawberry.ID = field(INHERITED)
    first_name: str | None = field(INHERITED)
    last_name: str | None = field(INHERITED)
    attended: bool = field(INHERITED)
    recorded_at: datetime = field(INHERITED)

    @guarded(INHERITED, graphql_type="ActivitySession", description="the session this entry is on")
    async def session(
        self, root: strawberry.Parent[AttendanceRecord], info: Info[Context, None]
    ) -> ActivitySessionRecord:
        return await activities.session_of(info.context, root.session_id)


@record
class ActivitySession:
    date: Day = field(Category.ACTIVITY)
    start_time: time = field(Category.ACTIVITY)
    duration_minutes: int = field(Category.ACTIVITY)
    register_entered_at: datetime | None = field(Category.ACTIVITY, description="when the register was first entered")
    deadline: Day = field(Category.ACTIVITY, description="5 working days after the session (standards 5.5)")
    late: bool = field(
        Category.ACTIVITY, description="register entered after its deadline, or still not entered past it"
    )

    @guarded(Category.ACTIVITY)
    def id(self, root: strawberry.Parent[ActivitySessionRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("ActivitySession", root.id))

    @guarded(Category.ACTIVITY, graphql_type="Activity")
    async def activity(
        self, root: strawberry.Parent[ActivitySessionRecord], info: Info[Context, None]
    ) -> ActivityRecord:
        return await activities.activity_of(info.context, root)

    @guarded(
        Category.ACTIVITY,
        graphql_type=list[Attendance],
        description="only attendees whose family's scope the caller may read SECONDARY data in",
    )
    async def register(
        self, root: strawberry.Parent[ActivitySessionRecord], info: Info[Context, None]
    ) -> list[AttendanceRecord]:
        return await activities.register_of(info.context, root)


@record
class Activity:
    """An activity of a setting (standards 9): ACTIVITY data, shared across all settings."""

    version: int = field(Category.ACTIVITY, description="compared by updateActivity (expectedVersion)")
    description: str = field(Category.ACTIVITY)
    provider: str = field(Category.ACTIVITY)
    project_leader: str = field(Category.ACTIVITY)
    outcome_type: str = field(Category.ACTIVITY, description="a code of the OUTCOME_TYPE list")
    outcome: str | None = field(Category.ACTIVITY)
    access_group: str = field(Category.ACTIVITY, description="a code of the ACCESS_GROUP list")
    event_type: str | None = field(Category.ACTIVITY, description="a code of the EVENT_TYPE list")
    start_date: Day = field(Category.ACTIVITY)
    start_time: time = field(Category.ACTIVITY)
    duration_minutes: int = field(Category.ACTIVITY)
    aims: str = field(Category.ACTIVITY)

    @guarded(Category.ACTIVITY)
    def id(self, root: strawberry.Parent[ActivityRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("Activity", root.id))

    @guarded(Category.ACTIVITY, graphql_type=Setting, description="the owning setting")
    async def setting(self, root: strawberry.Parent[ActivityRecord], info: Info[Context, None]) -> SettingRecord | None:
        return await info.context.loaders.setting.load(root.setting_id)

    @guarded(Category.ACTIVITY)
    def frequency(self, root: strawberry.Parent[ActivityRecord]) -> Frequency:
        return Frequency(root.frequency)

    @guarded(Category.ACTIVITY, graphql_type=list[ActivitySession], description="oldest first")
    async def sessions(
        self,
        root: strawberry.Parent[ActivityRecord],
        info: Info[Context, None],
        date_from: From = None,
        date_to: To = None,
    ) -> list[ActivitySessionRecord]:
        return await activities.sessions_of(info.context, root, date_from, date_to)


@public
class ActivityConnection:
    nodes: list[Activity]
    total_count: int
    page_info: PageInfo = strawberry.field(resolver=page_info_of)


@record
class Contact:
    """A home visit or other contact with a family: SECONDARY data of the family."""

    date: Day = field(INHERITED)
    duration_minutes: int | None = field(INHERITED)
    worker: str = field(INHERITED, description="who recorded the contact")
    summary: str | None = field(INHERITED)
    entered_at: datetime = field(INHERITED)
    deadline: Day = field(INHERITED, description="5 working days after the contact (standards 5.5)")
    late: bool = field(INHERITED, description="entered after its deadline")

    @guarded(INHERITED)
    def id(self, root: strawberry.Parent[ContactRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("Contact", root.id))

    @guarded(INHERITED)
    def kind(self, root: strawberry.Parent[ContactRecord]) -> ContactKind:
        return ContactKind(root.kind)

    @guarded(INHERITED, graphql_type=Setting, description="the setting of the family's scope the contact was made from")
    async def setting(self, root: strawberry.Parent[ContactRecord], info: Info[Context, None]) -> SettingRecord | None:
        return await info.context.loaders.setting.load(root.setting_id)

    @guarded(INHERITED, description="ids of the family's carers and children seen")
    def people_seen(self, root: strawberry.Parent[ContactRecord]) -> list[strawberry.ID]:
        return [strawberry.ID(person) for person in root.people_seen]


@strawberry.input(description="settingId: the owning setting (ACTIVITY write there)")
class ActivityInput:
    setting_id: strawberry.ID
    description: str
    provider: str
    project_leader: str
    frequency: Frequency
    outcome_type: str = strawberry.field(description="a code of the OUTCOME_TYPE list")
    access_group: str = strawberry.field(description="a code of the ACCESS_GROUP list")
    start_date: Day
    start_time: time
    duration_minutes: int
    aims: str
    outcome: str | None = None
    event_type: str | None = strawberry.field(default=None, description="a code of the EVENT_TYPE list")

    def data(self) -> NewActivity:
        return NewActivity(
            setting_id=self.setting_id,
            description=self.description,
            provider=self.provider,
            project_leader=self.project_leader,
            frequency=self.frequency.value,
            outcome_type=self.outcome_type,
            access_group=self.access_group,
            start_date=self.start_date,
            start_time=self.start_time,
            duration_minutes=self.duration_minutes,
            aims=self.aims,
            outcome=self.outcome,
            event_type=self.event_type,
        )


@strawberry.input(description="An omitted field is unchanged; outcome and eventType may be cleared with null.")
class ActivityUpdate:
    description: str | None = strawberry.UNSET
    provider: str | None = strawberry.UNSET
    project_leader: str | None = strawberry.UNSET
    frequency: Frequency | None = strawberry.UNSET
    outcome_type: str | None = strawberry.UNSET
    outcome: str | None = strawberry.UNSET
    access_group: str | None = strawberry.UNSET
    event_type: str | None = strawberry.UNSET
    start_date: Day | None = strawberry.UNSET
    start_time: time | None = strawberry.UNSET
    duration_minutes: int | None = strawberry.UNSET
    aims: str | None = strawberry.UNSET

    def changes(self) -> ActivityChanges:
        changes = ActivityChanges()
        if self.description is not strawberry.UNSET:
            changes["description"] = self.description
        if self.provider is not strawberry.UNSET:
            changes["provider"] = self.provider
        if self.project_leader is not strawberry.UNSET:
            changes["project_leader"] = self.project_leader
        if self.frequency is not strawberry.UNSET:
            changes["frequency"] = None if self.frequency is None else self.frequency.value
        if self.outcome_type is not strawberry.UNSET:
            changes["outcome_type"] = self.outcome_type
        if self.outcome is not strawberry.UNSET:
            changes["outcome"] = self.outcome
        if self.access_group is not strawberry.UNSET:
            changes["access_group"] = self.access_group
        if self.event_type is not strawberry.UNSET:
            changes["event_type"] = self.event_type
        if self.start_date is not strawberry.UNSET:
            changes["start_date"] = self.start_date
        if self.start_time is not strawberry.UNSET:
            changes["start_time"] = self.start_time
        if self.duration_minutes is not strawberry.UNSET:
            changes["duration_minutes"] = self.duration_minutes
        if self.aims is not strawberry.UNSET:
            changes["aims"] = self.aims
        return changes


@strawberry.input
class AttendanceInput:
    person_id: strawberry.ID = strawberry.field(description="a carer or a child")
    attended: bool

    def data(self) -> AttendanceData:
        return AttendanceData(person_id=self.person_id, attended=self.attended)


@strawberry.input
class ContactInput:
    family_id: strawberry.ID
    kind: ContactKind
    date: Day
    duration_minutes: int | None = None
    summary: str | None = None
    people_seen: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="the family's carers and children seen"
    )

    def data(self) -> NewContact:
        return NewContact(
            family_id=self.family_id,
            kind=self.kind.value,
            date=self.date,
            duration_minutes=self.duration_minutes,
            summary=self.summary,
            people_seen=list(self.people_seen),
        )
