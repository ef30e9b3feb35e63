"""Naming conventions (standards 12, following ContactPoint's guidance as far as it is known,
../shared/research/domain.md §1.2): names are letters, with hyphens, apostrophes and spaces
between their parts; titles and digits belong elsewhere; capitals the writer chose are kept.

- Whitespace is trimmed and runs of it collapsed; the typographic apostrophe becomes "'".
- A name written all in lower or all in upper case is put in proper case
  ("smith-jones" -> "Smith-Jones", "O'NEIL" -> "O'Neil"); mixed case is kept as given
  ("McDonald", "de la Cruz").
- A title (Mr, Mrs, Miss, Ms, Mx, Dr, Prof, Rev, Sir, Dame, Lady, Lord) as a word of the
  name, digits, and any other symbol are rejected.
- An unnamed newborn is recorded as "Baby" with the family surname and flagged as a
  provisional name, never with an invented forename.
"""

import re

TITLES = frozenset({"mr", "mrs", "miss", "ms", "mx", "dr", "prof", "rev", "sir", "dame", "lady", "lord"})
PLACEHOLDER_FORENAME = "Baby"
MAX_LENGTH = 100
_PART = re.compile(r"^[^\W\d_]+(?:['-][^\W\d_]+)*$")


class NameError_(ValueError):
    """The reason a name is refused, phrased for the person typing it."""


def normalise_name(raw: str) -> str:
    name = " ".join(raw.replace("\u2019", "'").replace("\u2018", "'").split())
    if not name:
        raise NameError_("must not be empty")
    if len(name) > MAX_LENGTH:
        raise NameError_(f"is longer than {MAX_LENGTH} characters")
    if any(ch.isdigit() for ch in name):
        raise NameError_("must not contain digits")
    words = name.split(" ")
    for word in words:
        if word.rstrip(".").lower() in TITLES:
            raise NameError_(f"must not contain a title ({word}); titles are not part of a name")
        if not _PART.fullmatch(word):
            raise NameError_("may contain only letters, hyphens, apostrophes and spaces")
    if name == name.lower() or name == name.upper():
        name = re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), name)
    return name
