"""pyinstrument profiles of the service on workloads (a) and (b): bench/profile-a.txt and
bench/profile-b.txt (self time, inclusive time, call tree). Needs the `bench` extra."""

from collections import Counter
from pathlib import Path
from typing import Any

from bench.apps import Setup
from bench.workloads import workloads


async def profile(s: Setup, out_dir: Path, repeats: int) -> list[Path]:
    from pyinstrument import Profiler

    written = []
    loads = {w.key: w for w in workloads(s)}
    for key in ("a", "b"):
        call = loads[key].calls["service"]
        await call()
        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
        for _ in range(repeats):
            await call()
        profiler.stop()
        path = out_dir / f"profile-{key}.txt"
        header = (
            f"# pyinstrument: the service on workload ({key}), {loads[key].title}; {s.kind}, N={s.n}, "
            f"{repeats} requests in-process.\n# Regenerate: python -m bench.run (full mode) or --profile.\n\n"
        )
        own, inclusive = flat(profiler)
        tree = profiler.output_text(unicode=True, color=False, show_all=False)
        path.write_text(
            header
            + "## 1. Self time per function, % of the profiled requests (top 50)\n\n"
            + own
            + "\n\n## 2. Inclusive time per function, % of the profiled requests (top 60)\n\n"
            + inclusive
            + "\n\n## 3. Call tree (library frames folded)\n"
            + tree
        )
        written.append(path)
    return written


def flat(profiler: Any) -> tuple[str, str]:
    """Self and inclusive time per function from pyinstrument's raw frame tree, as % of the
    profiled window, in which only the profiled requests run (epoll.poll: the event loop
    idle, waiting for the database driver)."""
    session = profiler.last_session
    root = session.root_frame(trim_stem=False)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()

    def walk(frame: Any, stack: frozenset[str]) -> None:
        name = f"{frame.class_name + '.' if frame.class_name else ''}{frame.function}"
        key = f"{name}  {frame.file_path_short}:{frame.line_no}"
        real = [child for child in frame.children if not child.is_synthetic]
        own[key] += frame.time - sum(child.time for child in real)
        if key not in stack:
            inclusive[key] += frame.time
        for child in real:
            walk(child, stack | {key})

    walk(root, frozenset())
    total = root.time

    def table(counter: Counter[str], lines: int) -> str:
        return "\n".join(
            f"{100 * t / total:6.1f}%  {t:7.3f} s  {key}" for key, t in counter.most_common(lines) if t > 0
        )

    return table(own, 50), table(inclusive, 60)
