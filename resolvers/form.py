"""Forms and their deadlines (standards 5): what was received, when it was entered, and
whether that was within the working days the standards allow."""

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from sqlalchemy import select

from authz.categories import Action, Category
from errors import BadUserInput, Forbidden, NotFound
from models import Form, Setting, User
from models.base import utcnow
from resolvers.context import Context
from resolvers.ids import decode_key
from resolvers.rights import require
from resolvers.validation import LONDON, clean_text, existing_setting, past_date, today
from resolvers.working_days import Deadline, WorkingCalendar

# Who may log or enter each kind of item: the category of the data it carries.
KIND_CATEGORY = {
    Deadline.INITIAL_CONTACT: Category.PRIMARY,
    Deadline.PRIMARY_CHANGE: Category.PRIMARY,
    Deadline.REFERRAL: Category.SECONDARY,
    Deadline.SECONDARY_CHANGE: Category.SECONDARY,
    Deadline.REGISTER: Category.SECONDARY,
    Deadline.HOME_VISIT: Category.SECONDARY,
}


@lru_cache(maxsize=8)
def calendar_for(closures: tuple[date, ...]) -> WorkingCalendar:
    return WorkingCalendar(closures)


def entered_on(form: Form) -> date | None:
    """The local (UK) date an item was entered; deadlines are counted in local days."""
    return None if form.entered_at is None else form.entered_at.astimezone(LONDON).date()


@dataclass(slots=True)
class FormRecord:
    form: Form
    deadline: date
    late: bool
    outstanding: bool


def form_record(ctx: Context, form: Form, on: date | None = None) -> FormRecord:
    calendar = calendar_for(ctx.config.closure_days)
    kind = Deadline(form.kind)
    deadline = calendar.deadline(kind, form.received_on)
    done = entered_on(form)
    late = done > deadline if done is not None else (on or today()) > deadline
    return FormRecord(form, deadline, late, done is None)


async def log_received(
    ctx: Context, setting_id: str, kind: Deadline, received_on: date, description: str | None
) -> FormRecord:
    """Record that something arrived, so it counts as outstanding until it is entered."""
    setting = await existing_setting(ctx.session, setting_id, "settingId")
    principal = require(ctx, KIND_CATEGORY[kind], Action.WRITE, frozenset([setting]))
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
    return form_record(ctx, form)


async def outstanding_form(ctx: Context, form_id: str, kind: Deadline, setting: int) -> Form:
    """An item logged as received and not yet entered, to be completed by an entry."""
    key = decode_key(form_id, "Form")
    form = None if key is None else await ctx.session.get(Form, key)
    if form is None or form.setting_id != setting:
        raise NotFound("formId: no such outstanding item in this setting")
    if form.kind != kind.value:
        raise BadUserInput(f"formId: that item is a {form.kind.lower()}, not a {kind.value.lower()}", "formId")
    if form.entered_at is not None:
        raise BadUserInput("formId: that item has already been entered", "formId")
    return form


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
        select(Form, User.display_name)
        .outerjoin(User, User.id == Form.entered_by_id)
        .where(Form.setting_id == setting, Form.received_on >= date_from, Form.received_on <= date_to)
        .order_by(Form.received_on, Form.id)
    )
    kinds = {kind.value: KindTimeliness(kind.value) for kind in Deadline}
    users: dict[str, UserTimeliness] = {}
    report = Timeliness(setting, date_from, date_to)
    for row in rows:
        form, user_name = row.Form, row.display_name
        item = form_record(ctx, form)
        counts = kinds[form.kind]
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


async def enter_logged(ctx: Context, form_id: str) -> FormRecord:
    """Mark an item logged as received as entered: a register, a home-visit sheet or a notice
    of change whose content was entered elsewhere (forms that register a family or record a
    referral are entered by registerFamily and recordReferral with their formId)."""
    principal = ctx.require_principal()
    key = decode_key(form_id, "Form")
    form = None if key is None else await ctx.session.get(Form, key)
    if form is None or not principal.grants.allows(Category.SECONDARY, Action.READ, [form.setting_id]):
        raise NotFound("id: no such item")
    require(ctx, KIND_CATEGORY[Deadline(form.kind)], Action.WRITE, frozenset([form.setting_id]))
    if form.entered_at is not None:
        raise BadUserInput("id: that item has already been entered", "id")
    mark_entered(ctx, form)
    ctx.audit.write("form.entered", "Form", form.id, setting_id=form.setting_id, changes={"kind": form.kind})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return form_record(ctx, form)
