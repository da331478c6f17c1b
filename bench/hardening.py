"""Benchmark of the inputs that used to be denial of service; prints a markdown table to stdout.

Measures, on the renderer and the front-matter parser alone (no instance needed):

1. rendering pages of duplicate headings (8,000 headings and a 512 KB page) — heading ids must
   be made in linear time;
2. rendering 2,000 distinct headings for comparison (the ratio shows linearity);
3. parsing front matter with a YAML alias bomb (443 bytes that expanded to 12.6 MB) and with an
   integer of 5,000 digits: both must be refused as page problems, quickly and without raising.

Each figure is the median of ``--rounds`` runs (min–max beside it).

Usage::

    .venv/bin/python bench/hardening.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Report, environment, log  # noqa: E402

ALIAS_BOMB = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "title: Bombe\n"
    "---\n"
    "Text\n"
)
BIG_INT = "---\ntitle: Zahl\nnumber: " + "9" * 5000 + "\n---\nText\n"


def measure(fn, rounds: int) -> tuple[float, float, float]:
    """Median, min and max seconds of ``fn()`` over ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def fmt(stats: tuple[float, float, float]) -> str:
    median, low, high = stats
    return f"{median * 1000:.1f} ms ({low * 1000:.1f}–{high * 1000:.1f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    from wiki.markup import Renderer
    from wiki.pages import Page

    renderer = Renderer()
    report = Report()
    report.notes.append(environment("renderer and front-matter parser only"))

    dup_8k = "\n\n".join("## a" for _ in range(8000))
    heading = "## Gleiche Überschrift\n\n"
    dup_512k = heading * (512 * 1024 // len(heading.encode()))
    distinct_2k = "\n\n".join(f"## Abschnitt {i}" for i in range(2000))
    dup_2k = "\n\n".join("## a" for _ in range(2000))

    log("rendering duplicate headings")
    small = measure(lambda: renderer.render(dup_2k, "bench"), args.rounds)
    report.add("render 2,000 duplicate headings", fmt(small))
    big = measure(lambda: renderer.render(dup_8k, "bench"), args.rounds)
    report.add("render 8,000 duplicate headings", fmt(big), "< 1 s", big[0] < 1.0)
    ratio = big[0] / small[0] if small[0] else float("nan")
    report.add("ratio 8,000 / 2,000 headings", f"{ratio:.1f}×", "≈ 4× (linear)", ratio < 6)
    page = measure(lambda: renderer.render(dup_512k, "bench"), args.rounds)
    report.add(
        f"render 512 KB page of duplicate headings ({dup_512k.count('##'):,} headings)",
        fmt(page),
        "< 1 s",
        page[0] < 1.0,
    )
    tiny = "# a\n\n" * (512 * 1024 // 5)
    worst = measure(lambda: renderer.render(tiny, "bench"), max(1, args.rounds // 2))
    report.add(
        f"render 512 KB of one-letter headings ({tiny.count('#'):,} blocks)",
        fmt(worst),
        "< 1 s",
        worst[0] < 1.0,
    )
    paragraphs = "a\n\n" * (512 * 1024 // 3)
    plain = measure(lambda: renderer.render(paragraphs, "bench"), max(1, args.rounds // 2))
    blocks = paragraphs.count("a")
    report.add(f"render 512 KB of one-letter paragraphs ({blocks:,} blocks)", fmt(plain))
    distinct = measure(lambda: renderer.render(distinct_2k, "bench"), args.rounds)
    report.add("render 2,000 distinct headings", fmt(distinct))

    log("parsing hostile front matter")
    for label, text, target in (
        (f"front matter with YAML aliases ({len(ALIAS_BOMB)} bytes)", ALIAS_BOMB, "refused"),
        ("front matter with a 5,000-digit integer", BIG_INT, "a problem, no exception"),
    ):
        try:
            parsed = Page.parse("bench", text.encode())
        except Exception as exc:  # what these inputs did before: an error that broke the sync
            report.add(label, f"raises {type(exc).__name__}", target, False)
            continue
        took = measure(lambda text=text: Page.parse("bench", text.encode()), args.rounds)
        size = len(repr(parsed.meta))
        outcome = " — a page problem" if parsed.problems else f" — accepted ({size:,} chars)"
        report.add(label, fmt(took) + outcome, target, bool(parsed.problems))
    report.print()
    return 1 if any(row.ok is False for row in report.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
