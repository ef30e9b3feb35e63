#!/usr/bin/env python3
"""Developer entry point, standard library only, so it runs on a fresh machine:

    python3 dev.py demo [--host 127.0.0.1] [--port 8000]   # demo data + GraphiQL
    python3 dev.py test [pytest arguments]                  # the test suite
    python3 dev.py lint                                     # ruff check, ruff format --check, mypy

Each creates `.venv` on first use and install the project into it (`pip install -e '.[dev]'`);
later runs reinstall only when pyproject.toml has changed.
"""

from __future__ import annotations  # the version check below must be reached on old Pythons

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".estart-installed"


def tool(name: str) -> str:
    return str(BIN / (f"{name}.exe" if os.name == "nt" else name))


def ensure_environment() -> None:
    """Create the virtual environment and install the project, unless it is up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under whatever python3 there is
        sys.exit(f"eStart needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not Path(tool("python")).exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, symlinks=os.name != "nt").create(VENV)
        except Exception as error:  # e.g. Debian without the python3-venv package
            sys.exit(f"could not create {VENV}: {error}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    installed = STAMP.read_text().strip() if STAMP.exists() else ""
    if installed == wanted and Path(tool("estart")).exists():
        return
    print("installing eStart and its development tools into .venv ...", flush=True)
    # The build backend's notice about editable installs is expected here: keep it quiet.
    quiet = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run([tool("python"), "-m", "pip", "install", "--quiet", "-e", ".[dev]"], cwd=ROOT, env=quiet, check=True)
    STAMP.write_text(wanted + "\n")


def run(*command: str, env: dict[str, str] | None = None) -> int:
    with subprocess.Popen(list(command), cwd=ROOT, env=env) as process:
        # Stopping dev.py stops the command too, and lets it shut down cleanly.
        previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            return process.wait()
        except KeyboardInterrupt:
            # Ctrl+C in a terminal reaches the command as well; an interrupt sent to dev.py
            # alone is passed on.
            try:
                return process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
                try:
                    return process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    return process.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)


def demo(host: str, port: int) -> int:
    env = {**os.environ, "ESTART_GRAPHIQL": "true"}
    for step in (["migrate"], ["seed-demo"]):
        code = run(tool("estart"), *step, env=env)
        if code:
            return code
    print("\nserving the demo: `estart serve` prints GraphiQL's address (stop with Ctrl+C)\n", flush=True)
    return run(tool("estart"), "serve", "--host", host, "--port", str(port), env=env)


LINTERS = (
    ("ruff check", ("ruff", "check", ".")),
    ("ruff format --check", ("ruff", "format", "--check", ".")),
    ("mypy", ("mypy", ".")),
)


def lint() -> int:
    """Every linter runs, even after one fails; the exit status is 1 if any failed."""
    failed = []
    for name, (program, *arguments) in LINTERS:
        print(f"== {name}", flush=True)
        if run(tool(program), *arguments):
            failed.append(name)
    if failed:
        print(f"lint failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dev.py", description="eStart developer commands")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="migrate, load the demo data and serve GraphiQL")
    demo_parser.add_argument("--host", default="127.0.0.1")
    demo_parser.add_argument("--port", type=int, default=8000)
    commands.add_parser("test", help="run pytest; every further argument goes to pytest")
    commands.add_parser("lint", help="ruff check, ruff format --check and mypy (strict) on the repository")
    # Everything after `test` belongs to pytest, untouched by argparse (-h, -k, --, …).
    args = parser.parse_args(argv[:1] if argv[:1] == ["test"] else argv)
    try:
        ensure_environment()
    except subprocess.CalledProcessError as error:
        sys.exit(f"installing the project failed (exit {error.returncode})")
    if args.command == "demo":
        return demo(args.host, args.port)
    if args.command == "lint":
        return lint()
    # ESTART_TEST_DATABASE_URL passes through: a PostgreSQL URL runs the suite on that server.
    return run(tool("pytest"), *argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
