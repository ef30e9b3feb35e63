"""Child protection plans and the list of children subject to one (standards 4)."""

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from authz.categories import Action
from authz.fields import category_of
from authz.guard import Payload
from authz.scope import load_for_write, shared_with
from errors import BadUserInput, Forbidden
from models import Child, ChildProtectionPlan, Family
from models.base import utcnow
from resolvers.context import Context
from resolvers.ids import decode_key
from resolvers.records import PersonRecord, person_record, plan_record
from resolvers.validation import past_date, today


async def start_plan(ctx: Context, child_id: str, start_date: date, category: str) -> Payload:
    principal = ctx.require_principal()
    data_category = category_of("Child", "child_protection_plan")
    target = await load_for_write(
        ctx.session, principal, Child, decode_key(child_id, "Child"), data_category, "childId: no such child"
    )
    child, family = target.row, target.family
    past_date(start_date, "startDate", today())
    open_plan = await ctx.session.scalar(
        select(ChildProtectionPlan.id).where(
            ChildProtectionPlan.child_id == child.id, ChildProtectionPlan.end_date.is_(None)
        )
    )
    if open_plan is not None:
        raise BadUserInput("childId: the child already has an open plan", "childId")
    plan = ChildProtectionPlan(
        child_id=child.id,
        start_date=start_date,
        category=category,
        recorded_by_id=principal.user_id,
        created_at=utcnow(),
    )
    ctx.session.add(plan)
    try:
        await ctx.session.flush()
    except IntegrityError:  # another request opened a plan since the check above
        raise BadUserInput("childId: the child already has an open plan", "childId") from None
    ctx.audit.write(
        "cp_plan.start",
        "Child",
        child.id,
        category=data_category,
        family_id=family.id,
        setting_id=target.acting_setting(data_category),
        changes={"childProtectionPlan": {"before": None, "after": f"{category} from {start_date.isoformat()}"}},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return Payload(plan_record(plan), data_category, target.grants.access_for(target.scope))


async def end_plan(ctx: Context, plan_id: str, end_date: date) -> Payload:
    # A plan is CP-plan data: one the caller may not read looks absent (NOT_FOUND).
    data_category = category_of("Child", "child_protection_plan")
    target = await load_for_write(
        ctx.session, ctx.require_principal(), ChildProtectionPlan, decode_key(plan_id, "ChildProtectionPlan"),
        data_category,
    )  # fmt: skip
    plan, family = target.row, target.family
    if plan.end_date is not None:
        raise BadUserInput("id: the plan has already ended", "id")
    past_date(end_date, "endDate", today())
    if end_date < plan.start_date:
        raise BadUserInput("endDate is before the plan's start date", "endDate")
    # Compare and set in one statement: of two requests ending the plan at once, one ends it.
    ended = await ctx.session.execute(
        update(ChildProtectionPlan)
        .where(ChildProtectionPlan.id == plan.id, ChildProtectionPlan.end_date.is_(None))
        .values(end_date=end_date)
        .execution_options(synchronize_session=False)
    )
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        raise BadUserInput("id: the plan has already ended", "id")
    await ctx.session.refresh(plan)
    ctx.audit.write(
        "cp_plan.end",
        "Child",
        plan.child_id,
        category=data_category,
        family_id=family.id,
        setting_id=target.acting_setting(data_category),
        changes={"childProtectionPlan.endDate": {"before": None, "after": end_date.isoformat()}},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return Payload(plan_record(plan), data_category, target.grants.access_for(target.scope))


async def protection_list(ctx: Context, setting_id: str) -> list[PersonRecord]:
    principal = ctx.require_principal()
    data_category = category_of("Child", "child_protection_plan")  # the list says which children have a plan
    key = decode_key(setting_id, "Setting")
    if key is None or not principal.grants.allows(data_category, Action.READ, [key]):
        raise Forbidden(data_category.name)
    rows = await ctx.reader.rows(
        select(Child, Family)
        .join(Family, Family.id == Child.family_id)
        .join(ChildProtectionPlan, ChildProtectionPlan.child_id == Child.id)
        .where(ChildProtectionPlan.end_date.is_(None), shared_with([key]))
        .order_by(Child.last_name, Child.first_name, Child.id)
    )
    accesses = [access for access, _ in await ctx.loaders.family_access(principal.grants, [row.Family for row in rows])]
    ctx.audit.read(
        "cp_list.read",
        "Setting",
        key,
        setting_id=key,
        category=data_category,
        changes={"children": [row.Child.id for row in rows]},
    )
    return [person_record("Child", row.Child, access) for row, access in zip(rows, accesses, strict=True)]
