"""Forms and their deadlines (standards 5): what was received, when it was entered, and
whether that was within the working days the standards allow."""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update

from authz.categories import Action, Category
from authz.fields import category_of
from authz.grants import Access
from authz.guard import Payload
from authz.scope import require
from errors import BadUserInput, Forbidden, NotFound
from models import Activity, ActivitySession, Contact, Form, Setting, User
from models.base import utcnow
from resolvers.context import Context
from resolvers.ids import decode_key
from resolvers.validation import LONDON, clean_text, existing_setting, past_date, today
from resolvers.working_days import Deadline, WorkingCalendar

# Who may log or enter each kind of item: the category of the data it carries, as the field that
# data is read through declares it (authz/fields.py). A notice of change carries a change of the
# category it is named for.
CARRIED_BY = {
    Deadline.INITIAL_CONTACT: ("Family", "address"),  # registers the family: its contact details
    Deadline.REFERRAL: ("Family", "forms"),  # the referral's content is read on the form itself
    Deadline.REGISTER: ("Child", "attendance"),
    Deadline.HOME_VISIT: ("Family", "contacts"),
}
CHANGE_CATEGORY = {Deadline.PRIMARY_CHANGE: Category.PRIMARY, Deadline.SECONDARY_CHANGE: Category.SECONDARY}


def kind_category(kind: Deadline) -> Category:
    return CHANGE_CATEGORY[kind] if kind in CHANGE_CATEGORY else category_of(*CARRIED_BY[kind])


# Forms whose content is entered only with them: closing one with nothing entered would game
# the timeliness of its deadline.
ENTERED_BY_THEIR_OWN_MUTATION = {
    Deadline.INITIAL_CONTACT: "an initial contact form is entered by registerFamily with its formId",
    Deadline.REFERRAL: "a referral form is entered by registerFamily or recordReferral with its formId",
}


@lru_cache(maxsize=8)
def calendar_for(closures: tuple[date, ...]) -> WorkingCalendar:
    return WorkingCalendar(closures)


@dataclass(slots=True)
class EnteredItem:
    """A register or a contact sheet, read as a forms row: timed from the session or contact
    itself, like a form received on its date (standards 5.5)."""

    id: int
    kind: str
    received_on: date
    entered_at: datetime | None
    # What a form carries beyond its dates, which these items do not.
    description: None = None
    referral_type: None = None
    referrer_name: None = None
    referrer_organisation: None = None
    reason_code: None = None
    consent_to_contact: None = None
    consent_date: None = None


@dataclass(frozen=True, slots=True)
class FormRecord:
    """Something received and its deadline: a form, or a register or contact sheet timed like
    one (`type_name` types its id)."""

    id: int
    type_name: str
    kind: Deadline
    received_on: date
    entered_at: datetime | None
    deadline: date
    late: bool
    outstanding: bool
    description: str | None
    referral_type: str | None
    referrer_name: str | None
    referrer_organisation: str | None
    reason_code: str | None
    consent_to_contact: bool | None
    consent_date: date | None


def form_record(ctx: Context, row: Any, type_name: str = "Form") -> FormRecord:
    """`row`: a forms row, a Form just written, or an EnteredItem."""
    kind = Deadline(row.kind)
    deadline = calendar_for(ctx.config.closure_days).deadline(kind, row.received_on)
    # deadlines are counted in local (UK) days
    done = None if row.entered_at is None else row.entered_at.astimezone(LONDON).date()
    late = done > deadline if done is not None else today() > deadline
    return FormRecord(
        id=row.id,
        type_name=type_name,
        kind=kind,
        received_on=row.received_on,
        entered_at=row.entered_at,
        deadline=deadline,
        late=late,
        outstanding=done is None,
        description=row.description,
        referral_type=row.referral_type,
        referrer_name=row.referrer_name,
        referrer_organisation=row.referrer_organisation,
        reason_code=row.reason_code,
        consent_to_contact=row.consent_to_contact,
        consent_date=row.consent_date,
    )


async def family_forms(ctx: Context, family_id: int) -> list[FormRecord]:
    return [form_record(ctx, row) for row in await ctx.loaders.forms.load(family_id)]


def form_payload(ctx: Context, form: Form, access: Access) -> Payload:
    """A form as a mutation returns it: read as Family.forms is, so under that field's category."""
    return Payload(form_record(ctx, form), category_of("Family", "forms"), access)


async def log_received(
    ctx: Context, setting_id: str, kind: Deadline, received_on: date, description: str | None
) -> Payload:
    """Record that something arrived, so it counts as outstanding until it is entered."""
    setting = await existing_setting(ctx.session, setting_id, "settingId")
    principal = require(ctx.require_principal(), kind_category(kind), Action.WRITE, frozenset([setting]))
    form = Form(
        kind=kind.value,
        setting_id=setting,
        received_on=past_date(received_on, "receivedOn", today()),
        description=None if description is None else clean_text(description, "description", 2000, required=False),
        logged_by_id=principal.user_id,
        logged_at=utcnow(),
    )
    ctx.session.add(form)
    await ctx.session.flush()
    ctx.audit.write("form.received", "Form", form.id, setting_id=setting, changes={"kind": kind.value})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return form_payload(ctx, form, principal.grants.access_for(frozenset([setting])))


async def outstanding_form(ctx: Context, form_id: str, kind: Deadline, setting: int) -> Form:
    """An item logged as received and not yet entered, to be completed by an entry."""
    key = decode_key(form_id, "Form")
    form = None if key is None else await ctx.session.get(Form, key)
    if form is None or form.setting_id != setting:
        raise NotFound("formId: no such outstanding item in this setting")
    if form.kind != kind.value:
        raise BadUserInput(f"formId: that item is a {form.kind.lower()}, not a {kind.value.lower()}", "formId")
    await claim(ctx, form, "formId")
    return form


async def claim(ctx: Context, form: Form, field: str) -> None:
    """Mark an item logged as received entered, once: of concurrent entries the first wins, the
    others are refused (compare and set in one statement, like a version)."""
    principal = ctx.require_principal()
    result = await ctx.session.execute(
        update(Form)
        .where(Form.id == form.id, Form.entered_at.is_(None))
        .values(entered_at=utcnow(), entered_by_id=principal.user_id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise BadUserInput(f"{field}: that item has already been entered", field)
    await ctx.session.refresh(form)


def log_change_entered(ctx: Context, category: Category, setting: int, family_id: int, received_on: date) -> None:
    """A notice of change (standards 5.3 primary, 5.4 secondary) received on `received_on` and
    entered now, by the write that applies it: it counts in timeliness against its deadline."""
    kind = Deadline.PRIMARY_CHANGE if category is Category.PRIMARY else Deadline.SECONDARY_CHANGE
    change = Form(
        kind=kind.value,
        setting_id=setting,
        family_id=family_id,
        received_on=received_on,
        logged_by_id=ctx.require_principal().user_id,
        logged_at=utcnow(),
    )
    mark_entered(ctx, change)
    ctx.session.add(change)


def mark_entered(ctx: Context, form: Form) -> None:
    principal = ctx.require_principal()
    form.entered_at = utcnow()
    form.entered_by_id = principal.user_id


@dataclass(slots=True)
class KindTimeliness:
    kind: str
    received: int = 0
    entered: int = 0
    entered_late: int = 0
    outstanding: int = 0
    outstanding_past_deadline: int = 0


@dataclass(slots=True)
class UserTimeliness:
    user_name: str
    entered: int = 0
    entered_late: int = 0


@dataclass(slots=True)
class Timeliness:
    setting_id: int
    date_from: date
    date_to: date
    by_kind: list[KindTimeliness] = field(default_factory=list)
    by_user: list[UserTimeliness] = field(default_factory=list)
    late_items: list[FormRecord] = field(default_factory=list)


async def timeliness(ctx: Context, setting_id: str, date_from: date, date_to: date) -> Timeliness:
    """Per kind and per user: items received in [from, to], entered late, still outstanding."""
    setting = decode_key(setting_id, "Setting")
    principal = ctx.require_principal()
    if setting is None or await ctx.reader.get(Setting, setting) is None:
        raise BadUserInput("settingId: no such setting", "settingId")
    # The setting's own data-quality tool: item-level and small counts, so only for staff who
    # may read the setting's secondary data, not for authority-wide reporting accounts.
    for category in (Category.REPORTING, Category.SECONDARY):
        if not principal.grants.allows(category, Action.READ, [setting]):
            raise Forbidden(category.name)
    if date_to < date_from:
        raise BadUserInput("to is before from", "to")
    rows = await ctx.reader.rows(
        select(Form.__table__, User.display_name)
        .outerjoin(User, User.id == Form.entered_by_id)
        .where(Form.setting_id == setting, Form.received_on >= date_from, Form.received_on <= date_to)
        .order_by(Form.received_on, Form.id)
    )
    items = [(form_record(ctx, row), row.display_name) for row in rows]
    items += await _registers_and_contacts(ctx, setting, date_from, date_to)
    items.sort(key=lambda item: (item[0].received_on, item[0].kind.value, item[0].id))
    kinds = {kind.value: KindTimeliness(kind.value) for kind in Deadline}
    users: dict[str, UserTimeliness] = {}
    report = Timeliness(setting, date_from, date_to)
    for item, user_name in items:
        counts = kinds[item.kind.value]
        counts.received += 1
        if item.outstanding:
            counts.outstanding += 1
            counts.outstanding_past_deadline += item.late
        else:
            counts.entered += 1
            counts.entered_late += item.late
            person = users.setdefault(user_name or "", UserTimeliness(user_name or ""))
            person.entered += 1
            person.entered_late += item.late
        if item.late:
            report.late_items.append(item)
    report.by_kind = list(kinds.values())
    report.by_user = sorted(users.values(), key=lambda u: u.user_name)
    return report


async def _registers_and_contacts(
    ctx: Context, setting: int, date_from: date, date_to: date
) -> list[tuple[FormRecord, str | None]]:
    """The registers of the setting's sessions held by today, and the contacts made from the
    setting, in [from, to]: each is received on its date and entered when it was recorded."""
    sessions = await ctx.reader.rows(
        select(ActivitySession.id, ActivitySession.date, ActivitySession.register_entered_at, User.display_name)
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .outerjoin(User, User.id == ActivitySession.register_entered_by_id)
        .where(
            Activity.setting_id == setting,
            ActivitySession.date >= date_from,
            ActivitySession.date <= min(date_to, today()),
        )
    )
    contacts = await ctx.reader.rows(
        select(Contact.id, Contact.date, Contact.entered_at, User.display_name)
        .join(User, User.id == Contact.worker_id)
        .where(Contact.setting_id == setting, Contact.date >= date_from, Contact.date <= date_to)
    )
    registers = [
        (
            form_record(
                ctx, EnteredItem(r.id, Deadline.REGISTER.value, r.date, r.register_entered_at), "ActivitySession"
            ),
            r.display_name,
        )
        for r in sessions
    ]
    sheets = [
        (
            form_record(ctx, EnteredItem(r.id, Deadline.HOME_VISIT.value, r.date, r.entered_at), "Contact"),
            r.display_name,
        )
        for r in contacts
    ]
    return [*registers, *sheets]


async def enter_logged(ctx: Context, form_id: str) -> Payload:
    """Mark an item logged as received as entered: a register, a home-visit sheet or a notice
    of change whose content was entered elsewhere (forms that register a family or record a
    referral are entered by registerFamily and recordReferral with their formId)."""
    principal = ctx.require_principal()
    key = decode_key(form_id, "Form")
    form = None if key is None else await ctx.session.get(Form, key)
    if form is None or not principal.grants.allows(Category.SECONDARY, Action.READ, [form.setting_id]):
        raise NotFound("id: no such item")
    kind = Deadline(form.kind)
    require(ctx.require_principal(), kind_category(kind), Action.WRITE, frozenset([form.setting_id]))
    if kind in ENTERED_BY_THEIR_OWN_MUTATION:
        raise BadUserInput(f"id: {ENTERED_BY_THEIR_OWN_MUTATION[kind]}", "id")
    await claim(ctx, form, "id")
    ctx.audit.write("form.entered", "Form", form.id, setting_id=form.setting_id, changes={"kind": form.kind})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return form_payload(ctx, form, principal.grants.access_for(frozenset([form.setting_id])))
