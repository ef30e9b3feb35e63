"""Geography and births for reports (research/domain.md §4, standards 5.1): the authority's
postcode → LSOA and reach area list, loaded whole, and monthly births per reach area.
LOOKUPS_ADMIN keeps both, like the drop-down lists."""

import csv
import io
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from authz.categories import Action, Category
from authz.scope import require_anywhere
from errors import BadUserInput
from models import BirthFigure, PostcodeArea
from resolvers.context import Context
from resolvers.validation import clean_postcode

LSOA = re.compile(r"[EW]01\d{6}")  # England and Wales LSOA codes, 2011 and 2021
HEADER = ["postcode", "reach_area", "lsoa"]
BATCH = 5000  # rows per INSERT; progress is reported per batch


@dataclass(frozen=True, slots=True)
class Birth:
    month: date
    reach_area: str
    births: int


def parse_postcode_areas(text: str) -> list[dict[str, str]]:
    """Rows of a postcode,reach_area,lsoa CSV, postcodes normalised; the first bad line
    rejects the whole file, naming its line number."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if header != HEADER:
        raise BadUserInput("line 1: the header must be postcode,reach_area,lsoa", "csv")
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    area_of: dict[str, str] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise BadUserInput(f"line {line}: expected 3 columns, found {len(row)}", "csv")
        postcode = _postcode(row[0], line)
        reach, lsoa = row[1].strip(), row[2].strip().upper()
        if not reach or len(reach) > 60:
            raise BadUserInput(f"line {line}: reach_area must be 1 to 60 characters", "csv")
        if not LSOA.fullmatch(lsoa):
            raise BadUserInput(f"line {line}: {lsoa!r} is not an LSOA code (E01 or W01 and six digits)", "csv")
        if postcode in seen:
            raise BadUserInput(f"line {line}: {postcode} appears twice", "csv")
        # Reports nest LSOAs in reach areas: one LSOA split between two would let a reach
        # area's count be differenced against its LSOAs'.
        if area_of.setdefault(lsoa, reach) != reach:
            raise BadUserInput(f"line {line}: {lsoa} is already in reach area {area_of[lsoa]!r}", "csv")
        seen.add(postcode)
        rows.append({"postcode": postcode, "reach_area": reach, "lsoa": lsoa})
    return rows


def _postcode(value: str, line: int) -> str:
    try:
        return clean_postcode(value, "postcode")
    except BadUserInput:
        raise BadUserInput(f"line {line}: {value.strip()!r} is not a UK postcode", "csv") from None


async def replace_postcode_areas(session: AsyncSession, rows: Sequence[dict[str, str]]) -> AsyncIterator[int]:
    """Replace the whole list in the caller's transaction, yielding the rows written so far."""
    await session.execute(delete(PostcodeArea))
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        await session.execute(insert(PostcodeArea), list(batch))
        yield start + len(batch)


async def import_postcode_areas(ctx: Context, text: str) -> int:
    require_anywhere(ctx.require_principal(), Category.LOOKUPS_ADMIN, Action.WRITE)
    rows = parse_postcode_areas(text)
    async for _ in replace_postcode_areas(ctx.session, rows):
        pass
    ctx.audit.write("import", "PostcodeArea", None, category=Category.LOOKUPS_ADMIN, changes={"rows": len(rows)})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return len(rows)


async def set_birth_figures(ctx: Context, entries: Sequence[Birth]) -> int:
    require_anywhere(ctx.require_principal(), Category.LOOKUPS_ADMIN, Action.WRITE)
    pairs = set()
    for i, entry in enumerate(entries):
        if entry.month.day != 1:
            raise BadUserInput(f"entries[{i}].month must be the first day of a month", f"entries.{i}.month")
        if entry.births < 0:
            raise BadUserInput(f"entries[{i}].births must not be negative", f"entries.{i}.births")
        area = entry.reach_area.strip()
        if not area or len(area) > 60 or (entry.month, area) in pairs:
            raise BadUserInput(f"entries[{i}].reachArea is empty, too long or repeated", f"entries.{i}.reachArea")
        pairs.add((entry.month, area))
    if pairs:
        await ctx.session.execute(
            delete(BirthFigure).where(tuple_(BirthFigure.month, BirthFigure.reach_area).in_(list(pairs)))
        )
        await ctx.session.execute(
            insert(BirthFigure),
            [{"month": e.month, "reach_area": e.reach_area.strip(), "births": e.births} for e in entries],
        )
    ctx.audit.write("set", "BirthFigure", None, category=Category.LOOKUPS_ADMIN, changes={"entries": len(entries)})
    await ctx.session.flush()  # atomic() commits, once the response is built
    return len(entries)
