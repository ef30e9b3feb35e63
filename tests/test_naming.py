"""Standards 12: names are entered properly, following the ContactPoint guidance."""

import pytest

from resolvers.naming import NameError_, normalise_name


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  Sam  ", "Sam"),
        ("Mary   Ann", "Mary Ann"),
        ("O'Neil", "O'Neil"),
        ("O\u2019Neil", "O'Neil"),
        ("Smith-Jones", "Smith-Jones"),
        ("McDonald", "McDonald"),
        ("de la Cruz", "de la Cruz"),
        ("smith-jones", "Smith-Jones"),
        ("O'NEIL", "O'Neil"),
        ("Zoë", "Zoë"),
        ("Drew", "Drew"),
    ],
)
def test_names_are_normalised_and_keep_their_capitals(given: str, stored: str) -> None:
    assert normalise_name(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "",
        "   ",
        "Mr John",
        "Dr. Smith",
        "mrs",
        "Sam2",
        "R2D2",
        "Sam!",
        "Smith_Jones",
        "-Sam",
        "Sam-",
        "Jo--Ann",
        "x" * 101,
    ],
)
def test_titles_digits_and_symbols_are_rejected(given: str) -> None:
    with pytest.raises(NameError_):
        normalise_name(given)
