"""Benchmark of the calendar plugin: a chapter's month view and its iCalendar feed.

Builds an instance with ``plugins.spaces`` and ``plugins.calendar``: a Landesverband ``lv``, a
Kreisverband ``lv/kv-1`` and its Ortsverband ``lv/kv-1/ov-1``, and ``--events`` events (default
500, of them ``--recurring`` repeating: weekly, every two weeks, monthly on a weekday, yearly,
daily with a count) in ``termin`` blocks on pages of the Kreisverband (four fifths) and the
Ortsverband, ten to a page, half of the pages public and half for members, all in 2026, written
with ``git fast-import`` and synced. A member of the Ortsverband (and so of every chapter above
it) sees all of them. Then ``--rounds`` rounds (default 30; ``--quick``: 10), each requesting once,
through Flask's test client with templates:

1. the month grid ``/-/calendar/lv/kv-1?monat=2026-06`` (with the Ortsverband's events) as the
   member and as an anonymous visitor, and the agenda of the same month;
2. the feed ``/-/calendar/lv/kv-1.ics?untergliederungen=1`` with the member's token (every
   event) and without (the public ones);
3. the Kreisverband's overview page (its upcoming events section included) as the member;

and, a third as often, the personal feed with the cache of serialised VEVENTs emptied first (the
first fetch after every event changed).

Reported per request: median, min–max and the median's ratio to the target (month view ≤ 30 ms,
feed ≤ 50 ms with all 500 events).

Usage::

    .venv/bin/python bench/calendars.py --quick
    .venv/bin/python bench/calendars.py > bench/out/calendar.md
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this file's folder comes first on sys.path, and this file would shadow the
# standard library's ``calendar`` (which PyJWT, among others, imports): drop the folder.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Report,
    add_workdir_options,
    environment,
    fast_import,
    log,
    ms,
    run_in_workdir,
)

PASSWORD = "bench-password-123"
KV, OV = "lv/kv-1", "lv/kv-1/ov-1"
MONTH = "2026-06"
PER_PAGE = 10
TARGET_MONTH = 0.030
TARGET_FEED = 0.050
SPACES = {  # path → (name, code, kind)
    "lv": ("Landesverband Thüringen", "TH", "landesverband"),
    KV: ("Kreisverband Erfurt", "EF", "kreisverband"),
    OV: ("Ortsverband Erfurt-Nord", "EF-N", "ortsverband"),
}
TITLES = [
    "Stammtisch", "Mitgliederversammlung", "Vorstandssitzung", "Infostand", "Lesekreis",
    "Workshop Öffentlichkeitsarbeit", "Kneipenquiz", "Neumitgliedertreffen", "Sommerfest",
    "Radtour", "Filmabend", "Plakatieren", "Podiumsdiskussion", "Arbeitskreis Verkehr",
    "Arbeitskreis Klimaschutz", "Grillabend", "Haustürwahlkampf", "Kreiskonferenz",
]  # fmt: skip
PLACES = ["Büro", "Café Mitte", "Gemeindehaus", "Online", "Marktplatz", "Jugendzentrum Süd"]
RULES = ["wöchentlich"] * 20 + ["alle-2-wochen"] * 10 + ["monatlich"] * 10 + ["jährlich"] * 5


def space_page(path: str) -> bytes:
    name, code, kind = SPACES[path]
    head = (
        f"title: {name}\ntype: space\nname: {name}\ncode: {code}\nkind: {kind}\n"
        "default_visibility: members\nedit: members\nvisibility: public\n"
    )
    return f"---\n{head}---\n# {name}\n\nDas ist der {name}.\n".encode()


def event_block(n: int, rng: random.Random, repeating: bool) -> str:
    """One ``termin`` block in 2026 (repeating ones start in the first quarter)."""
    title = f"{rng.choice(TITLES)} {n}"
    lines = [f"id: termin-{n:04d}", f"titel: {title}", f"ort: {rng.choice(PLACES)}"]
    if repeating:
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(90))
        hour = rng.choice([10, 17, 18, 19])
        lines += [f'beginn: "{day} {hour}:00"', f'ende: "{hour + 2}:00"']
        rule = RULES[n % len(RULES)]
        if n % 10 == 9:
            lines += ["wiederholung: täglich", "anzahl: 10"]
        else:
            lines.append(f"wiederholung: {rule}")
            if n % 2:
                lines.append("bis: 2026-12-31")
    else:
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        if rng.random() < 0.05:
            lines += [f"beginn: {day}", "ganztägig: ja"]
        else:
            start = datetime(
                day.year, day.month, day.day, rng.randrange(10, 20), rng.choice([0, 30])
            )
            end = start + timedelta(minutes=rng.choice([60, 90, 120, 180]))
            lines += [f'beginn: "{start:%Y-%m-%d %H:%M}"', f'ende: "{end:%Y-%m-%d %H:%M}"']
    lines.append("beschreibung: Alle sind herzlich eingeladen – bringt gern Freund*innen mit.")
    return "```termin\n" + "\n".join(lines) + "\n```\n"


def event_pages(total: int, recurring: int, rng: random.Random) -> list[tuple[str, bytes]]:
    """Pages of ``PER_PAGE`` events: four fifths in the Kreisverband, the rest in the
    Ortsverband; even pages public, odd ones for members."""
    repeating = set(rng.sample(range(total), recurring))
    files = []
    for page in range((total + PER_PAGE - 1) // PER_PAGE):
        space = OV if page % 5 == 4 else KV
        visibility = "public" if page % 2 == 0 else "members"
        numbers = range(page * PER_PAGE, min(total, (page + 1) * PER_PAGE))
        blocks = "\n".join(event_block(n, rng, n in repeating) for n in numbers)
        text = (
            f"---\ntitle: Termine {page + 1}\nvisibility: {visibility}\n---\n"
            f"# Termine {page + 1}\n\n{blocks}"
        )
        files.append((f"{space}/termine-{page + 1:03d}.md", text.encode()))
    return files


def build(args, workdir: Path, report: Report):
    """The instance with the chapters, the events and a member: (app, member token)."""
    from wiki import create_app
    from wiki.cli import seed_files, write_instance_config
    from wiki.migrate import upgrade

    instance = workdir / "instance"
    write_instance_config(instance)
    app = create_app(
        {
            "WIKI_INSTANCE": str(instance),
            "WIKI_MAIL_WORKER": False,
            "WIKI_PASSWORD_METHOD": "pbkdf2:sha256:1",
            "WIKI_PLUGINS": ["plugins.spaces", "plugins.calendar"],
            "WIKI_BASE_URL": "https://wiki.example.org",
            "SPACES_DIRECTORY_REQUIRES_2FA": False,
        }
    )
    state = app.extensions["wiki"]
    upgrade(state)
    state.store.init()
    rng = random.Random(args.seed)
    pages = event_pages(args.events, args.recurring, rng)
    files = [(name, data) for name, data in seed_files().items()]
    files += [(f"{path}.md", space_page(path)) for path in SPACES]
    now = int(time.time())
    commits = [(now - 3600, "System <system@noreply.invalid>", "Gliederungen", files)]
    commits += [
        (now - 1800 + i, "System <system@noreply.invalid>", f"Termine {i + 1}", pages[i : i + 10])
        for i in range(0, len(pages), 10)
    ]
    started = time.perf_counter()
    fast_import(Path(state.store.repo_path), commits)
    with app.app_context():
        state.syncer.sync()
        state.search.wait_idle()
    took = time.perf_counter() - started
    report.add(
        "setup: fast-import and sync",
        f"{took:.1f} s ({args.events} events, {args.recurring} repeating, {len(pages)} pages)",
    )
    token = make_member(app)
    return app, token


def make_member(app) -> str:
    """A member of the Ortsverband (so of every chapter above it); their feed token."""
    from plugins.spaces.directory import add_member
    from wiki.auth import issue_token
    from wiki.cli import create_user

    state = app.extensions["wiki"]
    with app.app_context(), state.sessions() as session:
        user = create_user(session, "mitglied", "Mia Mitglied", "mia@example.org", PASSWORD)
        add_member(session, user.id, OV, "member")
        token = issue_token(session, user, "feed", "Kalender")
        session.commit()
    return token


def login(app, handle: str | None):
    import re

    client = app.test_client()
    if handle is None:
        return client
    page = client.get("/-/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/-/login", data={"handle": handle, "password": PASSWORD, "csrf_token": csrf}
    )
    if response.status_code != 302:
        raise RuntimeError(f"login failed: HTTP {response.status_code}")
    return client


def requests(token: str) -> list[tuple[str, str, str, float | None]]:
    """(label, who, URL, target) measured in every round."""
    month = f"/-/calendar/{KV}?monat={MONTH}"
    feed = f"/-/calendar/{KV}.ics?untergliederungen=1"
    return [
        (f"month view {MONTH}, member (all events)", "member", month, TARGET_MONTH),
        (f"month view {MONTH}, anonymous (public)", "anon", month, TARGET_MONTH),
        (f"agenda {MONTH}, member", "member", month + "&ansicht=liste", TARGET_MONTH),
        ("feed, personal token (all events)", "anon", f"{feed}&token={token}", TARGET_FEED),
        ("feed, public", "anon", feed, TARGET_FEED),
        ("chapter overview with upcoming events, member", "member", f"/{KV}", None),
    ]


def measure(app, token: str, rounds: int, report: Report) -> None:
    clients = {"member": login(app, "mitglied"), "anon": login(app, None)}
    plan = requests(token)
    times: dict[str, list[float]] = {label: [] for label, *_ in plan}
    sizes: dict[str, int] = {}
    for round_number in range(rounds + 2):  # two rounds to warm up, not counted
        for label, who, url, _target in plan:
            started = time.perf_counter()
            response = clients[who].get(url)
            took = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code}")
            if round_number >= 2:
                times[label].append(took)
            sizes[label] = len(response.data)
    label = "feed, personal, cold (every VEVENT serialised anew)"
    plan.append((label, "anon", plan[3][2], None))
    times[label] = []
    parts = app.extensions["wiki"].extra.get("calendar_parts")
    for _ in range(max(3, rounds // 3)):
        if parts is not None:
            parts.clear()
        started = time.perf_counter()
        response = clients["anon"].get(plan[3][2])
        times[label].append(time.perf_counter() - started)
        sizes[label] = len(response.data)
    for label, _who, _url, target in plan:
        values = times[label]
        median = statistics.median(values)
        text = f"{ms(median)} ({ms(min(values))}–{ms(max(values))}), {sizes[label] / 1024:.0f} KB"
        if target:
            report.add(
                label, text, f"≤ {target * 1000:.0f} ms ({median / target:.2f}×)", median <= target
            )
        else:
            report.add(label, text)
    body = clients["anon"].get(f"/-/calendar/{KV}.ics?untergliederungen=1&token={token}").data
    report.notes.append(
        f"The personal feed holds {body.count(b'BEGIN:VEVENT')} VEVENTs; the month grid as the "
        f"member shows {occurrences_in(clients['member'], MONTH)} entries."
    )


def occurrences_in(client, month: str) -> int:
    page = client.get(f"/-/calendar/{KV}?monat={month}&ansicht=liste").get_data(as_text=True)
    return page.count('<span class="calendar-time">')


def run(args, workdir: Path) -> Report:
    report = Report()
    app, token = build(args, workdir, report)
    state = app.extensions["wiki"]
    try:
        log(f"{args.rounds} rounds of {len(requests(token))} requests")
        measure(app, token, args.rounds, report)
    except Exception as exc:
        report.error("requests", exc)
    finally:
        state.search.wait_idle()
        state.search.close()
        state.store.close()
        state.engine.dispose()
    report.notes.insert(
        0,
        environment(
            f"{args.events} events ({args.recurring} repeating) in {KV} and {OV}; "
            f"{args.rounds} rounds, Flask test client, medians (min–max)."
        ),
    )
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500, help="events (default 500)")
    parser.add_argument("--recurring", type=int, default=50, help="of them repeating (50)")
    parser.add_argument("--rounds", type=int, help="measured rounds (default 30)")
    parser.add_argument("--quick", action="store_true", help="10 rounds")
    parser.add_argument("--seed", type=int, default=20261204)
    add_workdir_options(parser)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (10 if args.quick else 30)
    if not 0 <= args.recurring <= args.events:
        parser.error("--recurring must be between 0 and --events")
    return args


def main(argv=None) -> int:
    return run_in_workdir(run, parse_args(argv), "wiki-calendar-bench-")


if __name__ == "__main__":
    sys.exit(main())
