"""Notes histories (standards 7): append-only; HISTORY is secondary, CONFIDENTIAL confidential.
A correction is a new note that references the one it corrects; nothing is edited."""

from sqlalchemy import select

from authz.guard import Payload
from errors import BadUserInput
from models import Note, User
from models.base import utcnow
from resolvers.context import Context
from resolvers.ids import decode_key
from resolvers.records import NoteRecord
from resolvers.subject import resolve_subject
from resolvers.validation import clean_text

# The notes history each kind of note is added to: its category is the one that field declares.
KIND_FIELDS = {"HISTORY": "notes", "CONFIDENTIAL": "confidential_notes"}


async def add_note(ctx: Context, subject_id: str, kind: str, text: str, corrects: str | None = None) -> Payload:
    subject = await resolve_subject(ctx, subject_id, KIND_FIELDS[kind])
    category = subject.category
    principal = ctx.require_principal()
    corrected = None if corrects is None else await _corrected_note(ctx, corrects, subject.type_name, subject.key, kind)
    note = Note(
        family_id=subject.family.id,
        subject_type=subject.type_name.lower(),
        subject_id=subject.key,
        kind=kind,
        text=clean_text(text, "text", 10000),
        author_id=principal.user_id,
        setting_id=subject.setting_for(category),
        created_at=utcnow(),
        corrects_note_id=corrected,
    )
    ctx.session.add(note)
    await ctx.session.flush()
    ctx.audit.write(
        "note.add", subject.type_name, subject.key,
        family_id=subject.family.id, setting_id=note.setting_id, category=category,
        changes={"note": {"kind": kind, "id": note.id, "corrects": corrected}},
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    author = await ctx.session.scalar(select(User.display_name).where(User.id == principal.user_id))
    record = NoteRecord(note.id, note.kind, note.text, note.created_at, author or "", note.setting_id, corrected)
    return Payload(record, category, principal.grants.access_for(subject.target.scope))


async def _corrected_note(ctx: Context, note_id: str, subject_type: str, subject_key: int, kind: str) -> int:
    """A correction names a note of the same history: same subject, same kind."""
    key = decode_key(note_id, "Note")
    note = None if key is None else await ctx.session.get(Note, key)
    if note is None or (note.subject_type, note.subject_id, note.kind) != (subject_type.lower(), subject_key, kind):
        raise BadUserInput("correctsNoteId: no such note in this history", "correctsNoteId")
    return note.id
