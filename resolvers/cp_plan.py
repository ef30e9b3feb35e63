"""Child protection plans and the list of children subject to one (standards 4)."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from authz.categories import Action, Category
from errors import BadUserInput, Forbidden, NotFound
from models import Child, ChildProtectionPlan, Family
from models.base import utcnow
from resolvers.context import Context
from resolvers.family import family_scope
from resolvers.ids import decode_key
from resolvers.records import PersonRecord, person_record
from resolvers.rights import acting_setting, require, require_anywhere
from resolvers.scope import access_to, shared_with
from resolvers.validation import past_date, today


async def _child_and_scope(ctx: Context, child_id: str, field: str) -> tuple[Child, Family, frozenset[int]]:
    require_anywhere(ctx, Category.PRIMARY, Action.READ)
    key = decode_key(child_id, "Child")
    child = None if key is None else await ctx.session.get(Child, key)
    if child is None:
        raise NotFound(f"{field}: no such child")
    family = await ctx.session.get(Family, child.family_id)
    assert family is not None
    return child, family, await family_scope(ctx, family)


async def start_plan(ctx: Context, child_id: str, start_date: date, category: str) -> ChildProtectionPlan:
    child, family, scope = await _child_and_scope(ctx, child_id, "childId")
    principal = require(ctx, Category.CP_PLAN, Action.WRITE, scope)
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
        category=Category.CP_PLAN,
        family_id=family.id,
        setting_id=acting_setting(principal, Category.CP_PLAN, scope, family.registered_setting_id),
        changes={"childProtectionPlan": {"before": None, "after": f"{category} from {start_date.isoformat()}"}},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return plan


async def end_plan(ctx: Context, plan_id: str, end_date: date) -> ChildProtectionPlan:
    require_anywhere(ctx, Category.PRIMARY, Action.READ)
    key = decode_key(plan_id, "ChildProtectionPlan")
    plan = None if key is None else await ctx.session.get(ChildProtectionPlan, key)
    if plan is None:
        raise NotFound()
    child = await ctx.session.get(Child, plan.child_id)
    assert child is not None
    family = await ctx.session.get(Family, child.family_id)
    assert family is not None
    scope = await family_scope(ctx, family)
    if not ctx.require_principal().grants.allows(Category.CP_PLAN, Action.READ, scope):
        raise NotFound()
    principal = require(ctx, Category.CP_PLAN, Action.WRITE, scope)
    if plan.end_date is not None:
        raise BadUserInput("id: the plan has already ended", "id")
    past_date(end_date, "endDate", today())
    if end_date < plan.start_date:
        raise BadUserInput("endDate is before the plan's start date", "endDate")
    plan.end_date = end_date
    ctx.audit.write(
        "cp_plan.end",
        "Child",
        child.id,
        category=Category.CP_PLAN,
        family_id=family.id,
        setting_id=acting_setting(principal, Category.CP_PLAN, scope, family.registered_setting_id),
        changes={"childProtectionPlan.endDate": {"before": None, "after": end_date.isoformat()}},
    )
    await ctx.session.flush()  # atomic() commits, once the response is built
    return plan


async def protection_list(ctx: Context, setting_id: str) -> list[PersonRecord]:
    principal = ctx.require_principal()
    key = decode_key(setting_id, "Setting")
    if key is None or not principal.grants.allows(Category.CP_PLAN, Action.READ, [key]):
        raise Forbidden(Category.CP_PLAN.name)
    rows = await ctx.reader.rows(
        select(Child, Family)
        .join(Family, Family.id == Child.family_id)
        .join(ChildProtectionPlan, ChildProtectionPlan.child_id == Child.id)
        .where(ChildProtectionPlan.end_date.is_(None), shared_with([key]))
        .order_by(Child.last_name, Child.first_name, Child.id)
    )
    accesses = await access_to(ctx, [row.Family for row in rows])
    ctx.audit.read(
        "cp_list.read",
        "Setting",
        key,
        setting_id=key,
        category=Category.CP_PLAN,
        changes={"children": [row.Child.id for row in rows]},
    )
    return [person_record("Child", row.Child, access) for row, access in zip(rows, accesses, strict=True)]
