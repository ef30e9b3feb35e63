"""Notes histories (standards 7): append-only; HISTORY is secondary, CONFIDENTIAL confidential."""

from typing import Any

from sqlalchemy import select

from authz.categories import Action, Category
from models import Carer, Child, Family, Note, User
from models.base import utcnow
from resolvers.context import Context
from resolvers.errors import NotFound
from resolvers.family import family_scope
from resolvers.ids import decode_id
from resolvers.records import NoteRecord
from resolvers.rights import acting_setting, require, require_anywhere
from resolvers.validation import clean_text

KIND_CATEGORY = {"HISTORY": Category.SECONDARY, "CONFIDENTIAL": Category.CONFIDENTIAL}
SUBJECTS: dict[str, Any] = {"Family": Family, "Carer": Carer, "Child": Child}


async def add_note(ctx: Context, subject_id: str, kind: str, text: str) -> NoteRecord:
    require_anywhere(ctx, Category.PRIMARY, Action.READ)
    decoded = decode_id(subject_id, *SUBJECTS)
    subject = None if decoded is None else await ctx.session.get(SUBJECTS[decoded[0]], decoded[1])
    if decoded is None or subject is None:
        raise NotFound("subjectId: no such family, carer or child")
    type_name, key = decoded
    family = subject if type_name == "Family" else await ctx.session.get(Family, subject.family_id)
    assert family is not None
    category = KIND_CATEGORY[kind]
    scope = await family_scope(ctx, family)
    principal = require(ctx, category, Action.WRITE, scope)
    note = Note(
        family_id=family.id,
        subject_type=type_name.lower(),
        subject_id=key,
        kind=kind,
        text=clean_text(text, "text", 10000),
        author_id=principal.user_id,
        setting_id=acting_setting(principal, category, scope, family.registered_setting_id),
        created_at=utcnow(),
    )
    ctx.session.add(note)
    await ctx.session.flush()
    ctx.audit.write(
        "note.add",
        "Note",
        note.id,
        category=category,
        family_id=family.id,
        setting_id=note.setting_id,
        changes={"after": {"subject": f"{type_name}:{key}", "kind": kind}},
    )
    await ctx.session.commit()
    author = await ctx.session.scalar(select(User.display_name).where(User.id == principal.user_id))
    return NoteRecord(note.id, note.kind, note.text, note.created_at, author or "", note.setting_id)
