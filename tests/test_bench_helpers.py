"""The helpers of bench/'s workloads for issues 12-14 that decide what a run reports: the feed
replay's paging, the reports' check against their GROUP BY, the seed's registers, and the workers
point's counting (issue 17)."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest

from bench import seed as seeding
from bench.feed import replay
from bench.records import HttpPoint, Scaling
from bench.reporting import age_band, check
from bench.scaling import cpu_seconds


def page_answer(changes: list[int], end: int | None, more: bool) -> bytes:
    page = {"endCursor": None if end is None else str(end), "hasMore": more, "changes": changes}
    return orjson.dumps({"data": {"contactPointChanges": page}})


def feed_of(total: int, asked: list[tuple[str | None, int]]) -> Callable[[str | None, int], Awaitable[bytes]]:
    """A fake feed of `total` changes; records each (after, first) asked."""

    async def page(after: str | None, first: int) -> bytes:
        asked.append((after, first))
        start = 0 if after is None else int(after)
        changes = list(range(start + 1, min(total, start + first) + 1))
        return page_answer(changes, changes[-1] if changes else start, start + first < total)

    return page


async def test_a_replay_reads_from_the_start_to_has_more_false_and_keeps_every_page() -> None:
    asked: list[tuple[str | None, int]] = []
    body = await replay(feed_of(12, asked), 5)()
    pages = orjson.loads(body)["data"]
    assert asked == [(None, 5), ("5", 5), ("10", 5)]
    assert [p["data"]["contactPointChanges"]["changes"] for p in pages] == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]


async def test_a_replay_of_one_page_stops_after_it() -> None:
    asked: list[tuple[str | None, int]] = []
    body = await replay(feed_of(12, asked), 5, pages=1)()
    assert asked == [(None, 5)]
    assert len(orjson.loads(body)["data"]) == 1


async def test_a_replay_stops_on_a_page_with_errors() -> None:
    async def refused(after: str | None, first: int) -> bytes:
        return orjson.dumps({"data": None, "errors": [{"message": "no"}]})

    with pytest.raises(AssertionError):
        await replay(refused, 5)()


def report(cells: list[dict[str, object]], total: dict[str, object]) -> bytes:
    return orjson.dumps({"data": {"report": {"cells": cells, "total": total}}})


def cell(keys: list[str], value: float | None, reason: str | None = None) -> dict[str, object]:
    return {"keys": keys, "value": value, "suppressed": reason is not None, "reason": reason}


FLOOR = report([{"keys": ["0-1"], "value": 12}, {"keys": ["1-2"], "value": 2}], {"keys": [], "value": 14})


def test_the_report_check_accepts_shown_counts_equal_to_the_group_by_and_small_primary_ones() -> None:
    service = report(
        [cell(["0-1"], None, "SECONDARY"), cell(["1-2"], None, "PRIMARY"), cell(["2-3"], 0.0)], cell([], 14.0)
    )
    assert check(FLOOR, service) == "4 cells and total, 2 suppressed; the others equal the floor's counts"


@pytest.mark.parametrize(
    "service",
    [
        report([cell(["0-1"], 11.0), cell(["1-2"], None, "PRIMARY")], cell([], 14.0)),  # a shown count differs
        report([cell(["0-1"], None, "PRIMARY"), cell(["1-2"], None, "PRIMARY")], cell([], 14.0)),  # 12 is not 1-3
        report([cell(["0-1"], 12.0), cell(["1-2"], None, "PRIMARY"), cell(["2-3"], 1.0)], cell([], 14.0)),  # absent
    ],
)
def test_the_report_check_refuses_a_count_the_group_by_does_not_give(service: bytes) -> None:
    with pytest.raises(AssertionError):
        check(FLOOR, service)


def test_the_floor_bands_ages_on_the_quarters_last_day() -> None:
    compiled = str(age_band().compile(compile_kwargs={"literal_binds": True}))
    # 30 September 2026: a child born on 1 October 2025 is under one, one born on 30 September 2025 is one
    assert "children.date_of_birth > '2025-09-30'" in compiled
    assert "children.date_of_birth > '2021-09-30'" in compiled


def test_the_seed_gives_registers_people_in_scope_and_the_feed_every_child() -> None:
    data = seeding.generate(60, "x", "y")
    families = {row["id"]: row["registered_setting_id"] for row in data.rows["families"]}
    affiliated = {(row["family_id"], row["setting_id"]) for row in data.rows["affiliations"] if not row["revoked_at"]}
    activities = {row["id"]: row["setting_id"] for row in data.rows["activities"]}
    sessions = {row["id"]: activities[row["activity_id"]] for row in data.rows["activity_sessions"]}
    assert data.rows["attendances"]
    for entry in data.rows["attendances"]:
        setting = sessions[entry["session_id"]]
        assert families[entry["family_id"]] == setting or (entry["family_id"], setting) in affiliated
    registers = [row for row in data.rows["activities"] if row["description"].startswith("Bench register")]
    assert [row["start_date"] for row in registers] == [seeding.REGISTER_DATE] * seeding.REGISTER_SESSIONS
    fed = [row["child_id"] for row in data.rows["contactpoint_changes"]]
    assert set(fed) == {row["id"] for row in data.rows["children"]}
    assert [row["seq"] for row in data.rows["contactpoint_changes"]] == list(range(1, len(fed) + 1))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_workers_point_counts_the_cpu_of_the_server_and_its_workers() -> None:
    """bench/scaling.py's server CPU per request adds the supervisor's children: a child that
    spins for a while shows in its parent's total."""
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spin!r}])"]
    )
    try:
        deadline = time.monotonic() + 30
        while cpu_seconds(parent.pid) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cpu_seconds(parent.pid) >= 0.3
    finally:
        for child in Path(f"/proc/{parent.pid}/task/{parent.pid}/children").read_text().split():
            os.kill(int(child), signal.SIGTERM)
        parent.wait(timeout=10)


def test_the_workers_ratio_is_of_requests_per_second_and_cpu_is_per_request() -> None:
    scaled = Scaling(2)
    for workers, requests, cpu in ((1, 100, 0.5), (2, 150, 0.8), (1, 100, 0.5)):
        scaled.add(workers, HttpPoint("", 10, requests, 1.0, [], 0), cpu)
    assert scaled.ratio() == pytest.approx(150 / 100)
    assert scaled.cpu_ms(1) == pytest.approx(5.0)
    assert scaled.cpu_ms(2) == pytest.approx(1000 * 0.8 / 150)
