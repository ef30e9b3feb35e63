"""Input checks shared by every mutation: each failure names the field at fault."""

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from errors import BadUserInput
from models import LookupValue, Setting
from resolvers.ids import decode_key
from resolvers.naming import PLACEHOLDER_FORENAME, NameError_, normalise_name

# BS 7666 shape, as in ../shared/research/domain.md §4; checked after normalising the spacing.
POSTCODE = re.compile(r"^(GIR 0AA|[A-PR-UWYZ][A-HK-Y]?\d[\dA-Z]? \d[ABD-HJLNP-UW-Z]{2})$")
SETTING_CODE = re.compile(r"^[A-Za-z0-9]{2,10}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,99}$")
CODE = re.compile(r"^[A-Z0-9_]{2,30}$")


EARLIEST = date(1900, 1, 1)
LONDON = ZoneInfo("Europe/London")


def today() -> date:
    """Today where the records are kept: dates are entered and deadlines counted in UK days."""
    return datetime.now(LONDON).date()


# Control, format (bidi overrides, zero-width) and surrogate characters: invisible, spoofing,
# or refused by PostgreSQL (NUL). Line breaks and tabs stay allowed in free text.
_REFUSED = {"Cc", "Cf", "Cs"}


def clean_text(value: str, field: str, max_length: int, *, required: bool = True) -> str:
    if any(unicodedata.category(ch) in _REFUSED and ch not in "\n\t" for ch in value):
        raise BadUserInput(f"{field} contains control or invisible formatting characters", field)
    cleaned = " ".join(value.split()) if "\n" not in value else value.strip()
    if required and not cleaned:
        raise BadUserInput(f"{field} must not be empty", field)
    if len(cleaned) > max_length:
        raise BadUserInput(f"{field} is longer than {max_length} characters", field)
    return cleaned


def clean_name(value: str, field: str) -> str:
    try:
        return normalise_name(value)
    except NameError_ as error:
        raise BadUserInput(f"{field} {error}", field) from None


def provisional_forename(given: str, field: str) -> str:
    """An unnamed newborn is recorded as "Baby" with the family surname (standards 12), never
    with an invented forename: the forename given must be empty or that placeholder."""
    if given.strip() not in ("", PLACEHOLDER_FORENAME):
        raise BadUserInput(
            f"{field}.firstName must be empty or {PLACEHOLDER_FORENAME!r} for a provisional name", f"{field}.firstName"
        )
    return PLACEHOLDER_FORENAME


def clean_postcode(value: str, field: str) -> str:
    compact = "".join(value.split()).upper()
    postcode = f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact
    if not POSTCODE.fullmatch(postcode):
        raise BadUserInput(f"{field} is not a UK postcode", field)
    return postcode


def past_date(value: date, field: str, today: date) -> date:
    if value > today:
        raise BadUserInput(f"{field} is in the future", field)
    if value < EARLIEST:
        raise BadUserInput(f"{field} is before {EARLIEST.isoformat()}", field)
    return value


async def active_code(session: AsyncSession, list_name: str, code: str, field: str) -> str:
    """A code of a drop-down list that is in use; unknown and deactivated codes are refused."""
    found = await session.scalar(
        select(LookupValue.code).where(LookupValue.list_name == list_name, LookupValue.code == code, LookupValue.active)
    )
    if found is None:
        raise BadUserInput(f"{field}: {code!r} is not an active code of the {list_name} list", field)
    return code


async def existing_setting(session: AsyncSession, setting_id: str, field: str) -> int:
    key = decode_key(setting_id, "Setting")
    if key is None or await session.get(Setting, key) is None:
        raise BadUserInput(f"{field}: no such setting", field)
    return key
