"""Helpers shared by the benchmarks in this folder: progress, percentiles, the result table,
``git fast-import``, the environment line and cProfile summaries.

The benchmarks put the project root on ``sys.path`` and import this module as ``bench.common``
(run as scripts and as ``bench.core`` under gunicorn alike). Nothing here imports the wiki.
"""

from __future__ import annotations

import cProfile
import io
import math
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

_T0 = time.perf_counter()

#: One commit for :func:`fast_import`: (epoch seconds, author ident ``Name <mail>``, message,
#: [(filename, bytes)]).
Commit = tuple[int, str, str, list[tuple[str, bytes]]]


def log(message: str) -> None:
    """Progress line on stderr with the seconds since start."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


# -- measuring --------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn()`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def profile_text(profiler: cProfile.Profile, limit: int = 18) -> str:
    """The top ``limit`` functions of a profile by own time, without blank lines."""
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    return "\n".join(line for line in stream.getvalue().splitlines() if line.strip())


# -- the result table -------------------------------------------------------------------------


@dataclass
class Row:
    metric: str
    value: str
    target: str = ""
    ok: bool | None = None


@dataclass
class Report:
    """A markdown table (metric, value, target, ok?) and notes printed below it."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False

    def add(self, metric: str, value: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(metric, value, target, ok))

    def error(self, section: str, exc: BaseException) -> None:
        """A failed section: traceback to stderr, an error row, and ``failed`` set."""
        traceback.print_exception(exc, file=sys.stderr)
        self.failed = True
        text = f"{type(exc).__name__}: {exc}".replace("|", "/").replace("\n", " ")[:160]
        self.add(section, f"error: {text}", "", False)

    def markdown(self) -> str:
        lines = ["| metric | value | target | ok? |", "|---|---|---|---|"]
        for row in self.rows:
            mark = "" if row.ok is None else ("yes" if row.ok else "**NO**")
            lines.append(f"| {row.metric} | {row.value} | {row.target} | {mark} |")
        return "\n".join(lines)

    def print(self) -> None:
        """The table, then each note after a blank line, to stdout."""
        print(self.markdown())
        for note in self.notes:
            print()
            print(note)


# -- git ----------------------------------------------------------------------------------------


def git_env() -> dict[str, str]:
    """The environment without the caller's git settings (no GIT_*, no system/global config)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", LC_ALL="C")
    return env


def fast_import(
    repo: Path, commits: Iterable[Commit], total: int | None = None, log_every: int = 0
) -> int:
    """Write ``commits`` (oldest first) onto ``refs/heads/main`` of the bare repository
    ``repo`` with ``git fast-import``; each commit replaces or adds its files. ``commits`` may
    be a generator (pages are produced while git reads them). Logs every ``log_every``
    commits; returns the number of commits written."""
    errors = tempfile.TemporaryFile()  # a pipe could fill up and block git
    proc = subprocess.Popen(
        ["git", "--git-dir", str(repo), "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        env=git_env(),
    )
    out = proc.stdin
    assert out is not None
    count = 0
    try:
        for when, author, message, files in commits:
            ident = f"{author} {int(when)} +0000".encode()
            text = message.encode("utf-8")
            out.write(b"commit refs/heads/main\n")
            out.write(b"author " + ident + b"\ncommitter " + ident + b"\n")
            out.write(b"data %d\n%s\n" % (len(text), text))
            for name, data in files:
                out.write(b"M 100644 inline " + name.encode("utf-8") + b"\n")
                out.write(b"data %d\n%s\n" % (len(data), data))
            count += 1
            if log_every and count % log_every == 0:
                log(f"  fast-import: {count}{f'/{total}' if total else ''} commits")
        out.write(b"done\n")
        out.close()
    except BrokenPipeError:
        pass  # git stopped early: its message follows
    except BaseException:
        proc.kill()  # a failing generator: no half-written history
        proc.wait()
        raise
    finally:
        if not out.closed:
            try:
                out.close()
            except OSError:
                pass
    if proc.wait() != 0:
        errors.seek(0)
        raise RuntimeError("git fast-import failed: " + errors.read().decode("utf-8", "replace"))
    errors.close()
    return count


# -- the environment line -----------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def environment(workload: str = "", extra: Iterable[str] = ()) -> str:
    """``Environment: <CPUs>, load average, Python, git, OS[, extra…]; <workload>``."""
    model = cpu_model()
    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    try:
        load = "load average {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    except OSError:
        load = "load average unknown"
    parts = [
        f"{os.cpu_count()} CPUs{f' ({model})' if model else ''}",
        load,
        f"Python {platform.python_version()}",
        git_version,
        f"{platform.system()} {platform.release()}",
        *extra,
    ]
    text = "Environment: " + ", ".join(p for p in parts if p)
    return text + (f"; {workload}" if workload else ".")


def add_workdir_options(parser) -> None:
    """``--workdir`` and ``--keep``, which every benchmark offers."""
    parser.add_argument("--workdir", help="create the temporary folder here")
    parser.add_argument("--keep", action="store_true", help="keep the instance afterwards")


def run_in_workdir(run: Callable, args, prefix: str) -> int:
    """``run(args, workdir)`` in a fresh temporary folder (removed afterwards unless
    ``--keep``), print its report and return the exit code (1 if a section failed)."""
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=args.workdir))
    log(f"working in {workdir}")
    try:
        report = run(args, workdir)
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report.print()
    return 1 if report.failed else 0
