"""Postcode areas and births (importPostcodeAreas, setBirthFigures, estart import-postcodes)."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models import PostcodeArea
from resolvers.geography import parse_postcode_areas
from server import main
from tests.conftest import Api, World

IMPORT = "mutation($csv: String!) { importPostcodeAreas(csv: $csv) }"
BIRTHS = "mutation($e: [BirthFigureInput!]!) { setBirthFigures(entries: $e) }"


def test_postcodes_are_normalised() -> None:
    rows = parse_postcode_areas("postcode,reach_area,lsoa\nwf11aa,North,e01000001\n")
    assert rows == [{"postcode": "WF1 1AA", "reach_area": "North", "lsoa": "E01000001"}]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("postcode,reach_area,lsoa\nWF1 1AA,North,E01000001\nNOT A CODE,North,E01000001\n", "line 3"),
        ("postcode,reach_area,lsoa\nWF1 1AA,North,E0100001\n", "line 2"),
        ("postcode,reach_area,lsoa\nWF1 1AA,North,E01000001\nWF1 1AB,South,E01000001\n", "line 3"),
        ("postcode,reach_area,lsoa\nWF1 1AA,North,E01000001\nwf1 1aa,North,E01000001\n", "line 3"),
        ("postcode,area\n", "line 1"),
    ],
)
def test_a_bad_row_names_its_line(text: str, line: str) -> None:
    with pytest.raises(Exception, match=line):
        parse_postcode_areas(text)


async def test_a_bad_import_changes_nothing_and_reimport_replaces(api: Api, world: World, app: Any) -> None:
    token = world.tokens["SYSTEM_ADMINISTRATOR"]
    good = "postcode,reach_area,lsoa\nWF1 1AA,North,E01000001\nWF1 2BB,North,E01000002\n"
    assert (await api.ok(IMPORT, {"csv": good}, token))["importPostcodeAreas"] == 2
    body = await api.post(IMPORT, {"csv": good + "XX,North,E01000003\n"}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "line 4" in body["errors"][0]["message"]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PostcodeArea)) == 2
    body = await api.post(IMPORT, {"csv": good}, world.tokens["MANAGER"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_birth_figures_are_set_and_replaced(api: Api, world: World) -> None:
    token = world.tokens["SYSTEM_ADMINISTRATOR"]
    entries = [{"month": "2025-07-01", "reachArea": "North", "births": 10}]
    assert (await api.ok(BIRTHS, {"e": entries}, token))["setBirthFigures"] == 1
    assert (await api.ok(BIRTHS, {"e": entries}, token))["setBirthFigures"] == 1
    body = await api.post(BIRTHS, {"e": [{"month": "2025-07-02", "reachArea": "North", "births": 1}]}, token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_command_line_imports_a_file_with_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    path = tmp_path / "postcodes.csv"
    path.write_text("postcode,reach_area,lsoa\nWF1 1AA,North,E01000001\n")
    monkeypatch.setenv("ESTART_DATABASE_URL", database_url)
    main(["import-postcodes", str(path)])
    out = capsys.readouterr().out
    assert "loaded 1 of 1 postcodes" in out and "imported 1 postcodes" in out
    path.write_text("postcode,reach_area,lsoa\nnope,North,E01000001\n")
    with pytest.raises(SystemExit, match="line 2"):
        main(["import-postcodes", str(path)])
