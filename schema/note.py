from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry
from strawberry.types import Info

from resolvers.batching import Known
from resolvers.context import Context
from resolvers.ids import encode_id
from resolvers.records import FamilyRecord, NoteRecord, PersonRecord, SettingRecord, note_record
from schema.enums import NoteKind
from schema.fields import INHERITED, field, guarded, record
from schema.setting import Setting


@record
class Note:
    """An entry of a notes history; its category is that of the list it was read from."""

    kind: NoteKind = field(INHERITED)
    text: str = field(INHERITED)
    created_at: datetime = field(INHERITED)
    author_name: str = field(INHERITED)

    @guarded(INHERITED)
    def id(self, root: strawberry.Parent[NoteRecord]) -> strawberry.ID:
        return strawberry.ID(encode_id("Note", root.id))

    @guarded(INHERITED, description="the note this one corrects; notes are never edited")
    def corrects_note_id(self, root: strawberry.Parent[NoteRecord]) -> strawberry.ID | None:
        return None if root.corrects_note_id is None else strawberry.ID(encode_id("Note", root.corrects_note_id))

    @guarded(INHERITED, graphql_type=Setting)
    def setting(self, root: strawberry.Parent[NoteRecord], info: Info[Context, None]) -> Known[SettingRecord | None]:
        return info.context.loaders.setting_of(root.setting_id)


def known_notes(
    info: Info[Context, None], subject: FamilyRecord | PersonRecord, subject_type: str, kind: str
) -> Known[list[NoteRecord]]:
    """A family's or a person's notes of a kind: read with its page (resolvers.family.preload_notes),
    else a coroutine reading them through the request's loader."""
    preloaded = None if subject.notes is None else subject.notes.get(kind)
    return preloaded if preloaded is not None else notes_of(info, subject_type, subject.id, kind)


def audited(notes: Known[list[NoteRecord]], audit: Callable[[], None]) -> Known[list[NoteRecord]]:
    """`notes`, with their read audited once they are read."""
    if isinstance(notes, list):
        audit()
        return notes
    return _audited(notes, audit)


async def _audited(notes: Awaitable[list[NoteRecord]], audit: Callable[[], None]) -> list[NoteRecord]:
    read = await notes
    audit()
    return read


async def notes_of(info: Info[Context, None], subject_type: str, subject_id: int, kind: str) -> list[NoteRecord]:
    rows = await info.context.loaders.notes.load((subject_type, subject_id, kind))
    return [note_record(row) for row in rows]


@strawberry.input
class NoteInput:
    subject_id: strawberry.ID
    kind: NoteKind
    text: str
    corrects_note_id: strawberry.ID | None = None
