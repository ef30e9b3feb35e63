"""bench/results.md, bench/latency.png and bench/results.json from one run of bench.run."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.records import IMPLS, HttpPoint, Measured, PeerResult, Run, Scaling
from bench.targets import MAIN, ratio, targets

COLOURS = {"floor": "#2b8a3e", "authz-off": "#1971c2", "standard": "#f08c00", "service": "#c92a2a"}


def _cell(m: Measured, impl: str) -> str:
    return f"{m.median(impl):.2f} ({m.p95(impl):.2f})"


def in_process_table(res: dict[str, Measured], titles: dict[str, str]) -> list[str]:
    lines = [
        "| workload | floor ms | authz-off ms | standard ms | service ms | standard / service "
        "| service / authz-off | service / floor "
        "| SQL statements floor / off / service | enforce calls service: warm (cold) "
        "| peak MB floor / off / service | response KB | notes |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for key in (*MAIN, *(k for k in res if k not in MAIN)):
        m = res[key]
        title = titles.get(key, m.title or key)
        lines.append(
            f"| {title} | {_cell(m, 'floor')} | {_cell(m, 'authz-off')} | {_cell(m, 'standard')} "
            f"| {_cell(m, 'service')} | **{ratio(m, 'standard', 'service'):.2f}** "
            f"| **{ratio(m, 'service', 'authz-off'):.2f}** | **{ratio(m, 'service', 'floor'):.2f}** "
            f"| {m.statements['floor']} / {m.statements['authz-off']} / {m.statements['service']} "
            f"| {m.enforce_warm['service']} ({m.enforce_cold['service']}) "
            f"| {m.peak_mb['floor']:.1f} / {m.peak_mb['authz-off']:.1f} / {m.peak_mb['service']:.1f} "
            f"| {m.size_kb['service']:.0f} | {m.note} |"
        )
    return lines


def http_table(points: list[HttpPoint]) -> list[str]:
    by = {(p.impl, p.concurrency): p for p in points}
    lines = [
        "| clients | implementation | req/s | p50 ms | p99 ms | failed | service / authz-off: req/s, p50 |",
        "|--:|---|--:|--:|--:|--:|---|",
    ]
    for c in sorted({p.concurrency for p in points}):
        for impl in IMPLS:
            p = by[(impl, c)]
            ratio = ""
            if impl == "service":
                off = by[("authz-off", c)]
                ratio = f"**{p.rps / off.rps:.2f}**, **{p.pct(0.5) / off.pct(0.5):.2f}**"
            lines.append(
                f"| {c} | {impl} | {p.rps:,.0f} | {p.pct(0.5):.2f} | {p.pct(0.99):.2f} | {p.failures} | {ratio} |"
            )
    return lines


def peer_table(results: list[PeerResult]) -> list[str]:
    lines = [
        "| workload (issue 17's table) | service | PostGraphile | **ours / PostGraphile** "
        "| PostGraphile SQL statements per request | response KB service / PostGraphile |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for p in results:
        size = f"{p.size_kb['service']:.0f} / {p.size_kb['postgraphile']:.0f}"
        if p.points is not None:
            ours, theirs = p.points["service"], p.points["postgraphile"]
            cells = [
                f"{ours.rps:,.0f} req/s (p50 {ours.pct(0.5):.1f} ms)",
                f"{theirs.rps:,.0f} req/s (p50 {theirs.pct(0.5):.1f} ms)",
                f"**{p.ratio():.2f}× the requests per second**",
            ]
        else:
            cells = [
                f"{p.median('service'):.1f} ms",
                f"{p.median('postgraphile'):.1f} ms",
                f"**{p.ratio():.2f}× the latency**",
            ]
        lines.append(f"| {p.title} | " + " | ".join(cells) + f" | {p.peer_statements:g} | {size} |")
    return lines


def scaling_table(scaled: Scaling) -> list[str]:
    lines = ["| workers | req/s | p50 ms | p99 ms | server CPU ms per request | failed |", "|--:|--:|--:|--:|--:|--:|"]
    for workers, p in scaled.points.items():
        lines.append(
            f"| {workers} | {p.rps:,.0f} | {p.pct(0.5):.2f} | {p.pct(0.99):.2f} | {scaled.cpu_ms(workers):.2f} "
            f"| {p.failures} |"
        )
    return lines


def chart(r: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k in r.kinds if any((k, n) in r.results for n in r.sizes)]
    fig, axes = plt.subplots(1, len(kinds), figsize=(6.2 * len(kinds), 4.8), squeeze=False)
    styles = ["-", "--", ":", "-."]
    for ax, kind in zip(axes[0], kinds, strict=True):
        for n_index, n in enumerate(r.sizes):
            res = r.results.get((kind, n))
            if res is None:
                continue
            keys = sorted(
                (k for k in res if k == "a" or (k.startswith("a") and k[1:].isdigit())),
                key=lambda k: int(k[1:]) if k[1:] else 1000,
            )
            rows = [int(k[1:]) if k[1:] else 1000 for k in keys]
            for impl in IMPLS:
                ax.plot(
                    rows,
                    [res[k].median(impl) for k in keys],
                    styles[n_index % len(styles)],
                    marker="o",
                    color=COLOURS[impl],
                    label=f"{impl}, N={n:,}",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("families in the page (rows returned; carers and children nested)")
        ax.set_ylabel("median latency per request, ms (in-process)")
        ax.set_title(f"Workload (a) on {kind}: latency against rows")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("floor (hand-written SQL + orjson) vs authz-off vs service", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def to_json(r: Run) -> dict[str, Any]:
    return {
        "environment": r.env,
        "iterations": r.iterations,
        "warmup": r.warmup,
        "in_process": {
            f"{kind}/{n}": {
                key: {
                    "times_ms": m.times,
                    "median_ms": {i: m.median(i) for i in IMPLS},
                    "cpu_median_ms": {i: m.cpu_median(i) for i in IMPLS},
                    "p95_ms": {i: m.p95(i) for i in IMPLS},
                    "statements": m.statements,
                    "auth_statements": m.auth_statements,
                    "statement_text": m.statement_text,
                    "enforce_warm": m.enforce_warm,
                    "enforce_cold": m.enforce_cold,
                    "peak_mb": m.peak_mb,
                    "response_kb": m.size_kb,
                    "errors": m.errors,
                    "note": m.note,
                }
                for key, m in res.items()
            }
            for (kind, n), res in r.results.items()
        },
        "http": {
            f"{kind}/{n}": [
                {
                    "impl": p.impl,
                    "clients": p.concurrency,
                    "requests": p.requests,
                    "seconds": p.seconds,
                    "rps": p.rps,
                    "p50_ms": p.pct(0.5),
                    "p99_ms": p.pct(0.99),
                    "failures": p.failures,
                }
                for p in points
            ]
            for (kind, n), points in r.http.items()
        },
        "peer": {
            f"{kind}/{n}": [
                {
                    "workload": p.key,
                    "title": p.title,
                    "ours_over_postgraphile": p.ratio(),
                    "latencies_ms": p.latencies,
                    "rps": None if p.points is None else {i: pt.rps for i, pt in p.points.items()},
                    "postgraphile_statements": p.peer_statements,
                    "response_kb": p.size_kb,
                }
                for p in results
            ]
            for (kind, n), results in r.peer.items()
        },
        "workers": {
            f"{kind}/{n}": {
                str(workers): {"rps": p.rps, "p50_ms": p.pct(0.5), "server_cpu_ms": scaled.cpu_ms(workers)}
                for workers, p in scaled.points.items()
            }
            for (kind, n), scaled in r.scaling.items()
        },
    }


TITLES = {
    "a": "(a) 1,000 families + carers + children, manager",
    "b": "(b) same list + confidential notes, half denied",
    "c": "(c) one family, all relations",
    "d": "(d) searchPeople",
}


def write(r: Run, out: Path, command: str, with_chart: bool = True) -> list[Path]:
    """Write results.md and results.json, and latency.png unless `with_chart` is false (the chart
    needs matplotlib, from the `bench` extra); returns the paths written."""
    from bench.seed import HALF_SETTINGS, SEARCH_NAME, SETTINGS

    md, png, js = out / "results.md", out / "latency.png", out / "results.json"
    if with_chart:
        chart(r, png)
    js.write_text(json.dumps(to_json(r), indent=1, default=str))
    titles = dict(TITLES)
    titles["d"] = f'(d) searchPeople(name: "{SEARCH_NAME}")'
    for key in {k for res in r.results.values() for k in res}:
        if key not in titles and key[1:].isdigit():
            titles[key] = f"(a) page of {int(key[1:]):,} (chart)"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {now} ({r.seconds:.0f} s)"
        + (" — QUICK smoke run, not for comparison." if r.quick else "."),
        "How to run and what is measured: [README.md](README.md). Raw numbers: [results.json](results.json).",
        "",
        "**Method.** One process; for each database and N a fresh database seeded by `bench/seed.py`. Each"
        " workload is answered by three implementations side by side — **floor** (hand-written SQLAlchemy Core,"
        " nested in Python, orjson; `bench/floor.py`), **authz-off**"
        " (`create_app(config, schema=build_schema(guards=False))`: the same app and schema with no field"
        " guards) and **service** (`create_app(config)`). In-process"
        " requests go through the app's own `GraphQLApp.get_context` (a fresh session per request),"
        " `schema.execute`, `process_result` and `encode_json` (orjson): everything but HTTP."
        f" {r.warmup} untimed rounds, then {r.iterations} timed rounds, interleaved (floor, authz-off, service,"
        " order rotated each round). Cells are **median (p95) ms**; the ratios are of medians within the run."
        " Before timing, each implementation's `data` is asserted equal to the floor's (for (b), authz-off"
        " is compared with the floor's answer for the manager, who reads everything), so no wrong answer is"
        " timed. Statements are counted"
        " with SQLAlchemy's `before_cursor_execute` and include authentication (measured apart with `{ __typename }`;"
        " the floor authenticates in 1). Enforce calls count every Casbin `enforce` in the process;"
        " *cold* is the first request after the app starts. Peak MB is tracemalloc's peak over one request"
        " (run separately, never timed).",
        "",
        f"Data: {SETTINGS} settings; per family 1–3 carers, 1–4 children (all carers related to all children),"
        " 1–3 history notes plus a confidential note on 30%, 0–2 history notes per person and a confidential"
        " one on 10%; 10% of families affiliated with a second setting; child-protection plans on 5% of"
        " children. Callers: `bench-manager` (MANAGER in all settings) for (a), (c), (d), (e); `bench-half`"
        f" for (b): MANAGER in settings 1–{HALF_SETTINGS} and ADMIN_OFFICER in {HALF_SETTINGS + 1}–{SETTINGS}"
        " (it reads SECONDARY everywhere, so it lists every family, but CONFIDENTIAL only where a family's"
        f" scope meets settings 1–{HALF_SETTINGS}). Activities (bench/seed.py): N / 400 per setting (at"
        " least one), 10 weekly sessions each, registers of 8 people in the setting's scope; the ContactPoint"
        " outbox holds an UPSERT per child and a second one for a fifth of them. (r), (p) as `bench-manager`;"
        " (f) as `bench-feed` (CONTACTPOINT_FEED); (q1), (q2), (q3) as `bench-reporting` (LA_REPORTING).",
        "",
    ]
    lines += ["## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(r)]
    lines.append("")
    for kind in r.kinds:
        lines += [f"## {kind}", ""]
        for n in r.sizes:
            res = r.results.get((kind, n))
            if res is None:
                continue
            counts, seconds = r.seeds[(kind, n)]
            seeded = "reused" if seconds is None else f"seeded in {seconds:.1f} s"
            lines += [
                f"### N = {n:,} families ({seeded}: {counts.get('carers', 0):,} carers, "
                f"{counts.get('children', 0):,} children, {counts.get('notes', 0):,} notes, "
                f"{counts.get('affiliations', 0):,} affiliations)",
                "",
            ]
            lines += in_process_table(res, titles)
            lines.append("")
            if (kind, n) in r.http_errors:
                lines += [f"**(e) HTTP failed:** {r.http_errors[(kind, n)]}", ""]
            if (kind, n) in r.http:
                lines += [
                    f"**(e) HTTP, workload (c) through uvicorn** (one worker per implementation, each its own"
                    f" process pinned to CPU 0; an asyncio httpx client pool on CPU 1; {r.http_seconds:g} s per point"
                    f" in {r.http_rounds} interleaved rounds after a {r.http_warmup:g} s warm-up; a response with"
                    " `errors` counts as failed):",
                    "",
                    *http_table(r.http[(kind, n)]),
                    "",
                ]
            if (kind, n) in r.peer_errors:
                lines += [f"**Peer (PostGraphile) failed:** {r.peer_errors[(kind, n)]}", ""]
            if (kind, n) in r.peer:
                lines += [
                    "**Against PostGraphile** (bench/peer.py: PostGraphile 4 on this database through the"
                    " grants, computed columns and row-level security of bench/peer/schema.sql, one Node process,"
                    " against one uvicorn worker of the service, both pinned to CPU 0, the same httpx client on"
                    " CPU 1; the same documents in each one's schema, the same user, and PostGraphile's answers"
                    " asserted equal to the service's before timing; sequential workloads in"
                    " interleaved rounds on one keep-alive connection each, medians; the concurrent point as (e)):",
                    "",
                    *peer_table(r.peer[(kind, n)]),
                    "",
                ]
            if (kind, n) in r.scaling:
                scaled = r.scaling[(kind, n)]
                lines += [
                    "**Workers** (bench/scaling.py: the service as `estart serve --workers N` runs it,"
                    f" {scaled.points[1].concurrency}"
                    f" clients on (c), interleaved rounds, nothing pinned; the {scaled.cpus} CPUs are shared with the"
                    " client and PostgreSQL; the server's CPU is its processes' from /proc):",
                    "",
                    *scaling_table(scaled),
                    "",
                ]
        lines += ["**SQL statements per request against N** (floor / authz-off / service):", ""]
        sizes = [n for n in r.sizes if (kind, n) in r.results]
        if sizes:
            lines.append("| workload | " + " | ".join(f"N={n:,}" for n in sizes) + " |")
            lines.append("|---|" + "--:|" * len(sizes))
            for key, first in r.results[(kind, sizes[0])].items():
                cells = []
                for n in sizes:
                    st = r.results[(kind, n)][key].statements
                    cells.append(f"{st['floor']} / {st['authz-off']} / {st['service']}")
                lines.append(f"| {titles.get(key, first.title or key)} | " + " | ".join(cells) + " |")
            lines.append("")
    if with_chart:
        lines += [
            "## Latency against rows",
            "",
            "![latency against rows](latency.png)",
            "",
            "Workload (a) with pages of 10, 100 and 1,000 families, at each N (log-log). A line that is flat"
            " between N=1,000 and N=10,000 means the cost follows the rows returned, not the table size.",
            "",
        ]
    if r.profiles:
        lines += [
            "## Profiles",
            "",
            *(f"- [{p.name}]({p.name}): pyinstrument, the service on workload ({p.stem[-1]})" for p in r.profiles),
            "",
        ]
    lines += ["## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r.env.items()]
    lines.append("")
    md.write_text("\n".join(lines))
    return [md, png, js] if with_chart else [md, js]
