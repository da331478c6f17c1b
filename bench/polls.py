"""Benchmark of the polls plugin; prints a markdown table to stdout (progress on stderr).

Builds an instance with ``plugins.polls`` and three polls, then measures in one run:

1. **vote POST** through the Flask test client (routing, CSRF, permission, validation, the
   counted insert with its constraints, the version bump, the redirect): ``--voters`` accounts
   (default 100) vote for the first time, and as many printed slips (token consumed by one
   conditional UPDATE in the same transaction); ``--rounds`` rounds (default 3), each on a fresh
   poll, reported as the median of the rounds' p50 with min–max, and as a ratio to a plain GET
   of the same poll's page;
2. **results page of a poll with ``--ballots`` ballots** (default 10,000; single choice with 5
   options, and a ranked Schulze poll with 5 candidates): the first view after a new vote
   (tally computed) and the cached views, p50 over ``--views`` requests (default 50);
3. **parallel voting**: gunicorn with 4 gthread workers × 4 threads on 127.0.0.1 and
   ``--parallel`` voters (default 200; half accounts, half slips) from 16 client threads at
   once, ``Connection: close``: errors must be 0 and the counted votes exactly the voters.

Usage::

    .venv/bin/python bench/polls.py            # about a minute
    .venv/bin/python bench/polls.py --ballots 50000 --voters 300
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Report,
    add_workdir_options,
    environment,
    log,
    ms,
    pct,
    run_in_workdir,
)
from bench.core import Server, Session  # noqa: E402

PASSWORD = "bench-password-123"
PLUGINS = ["plugins.polls"]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TARGET_VOTE = 0.030
TARGET_RESULTS = 0.050
OPTIONS = {f"o{n}": f"Option {n}" for n in range(1, 6)}


def poll_block(poll_id: str, kind: str = "einfach", who: str = "angemeldet") -> str:
    lines = [f"id: {poll_id}", f"titel: Benchmark {poll_id}", f"typ: {kind}", "optionen:"]
    lines += [f"  {key}: {label}" for key, label in OPTIONS.items()]
    lines += [f"wer: {who}", "ergebnis: immer"]
    return "```poll\n" + "\n".join(lines) + "\n```\n"


def page(title: str, blocks: list[str]) -> bytes:
    return (f"---\ntitle: {title}\nvisibility: public\n---\n" + "\n".join(blocks)).encode()


def build(args, workdir: Path, report: Report):
    """The instance: pages with the polls, accounts, the big polls' ballots."""
    from plugins.polls import tokens
    from wiki import create_app
    from wiki.cli import create_user, seed_files, write_instance_config
    from wiki.migrate import upgrade
    from wiki.storage import Author

    instance = workdir / "instance"
    write_instance_config(instance)
    app = create_app(
        {
            "WIKI_INSTANCE": str(instance),
            "WIKI_MAIL_WORKER": False,
            "WIKI_PASSWORD_METHOD": "pbkdf2:sha256:1",
            "WIKI_PLUGINS": PLUGINS,
        }
    )
    state = app.extensions["wiki"]
    upgrade(state)
    author = Author("u-system", "system@noreply.invalid")
    state.store.init(seed_files(), author=author, message="Startseiten")
    start = time.perf_counter()
    rounds = [poll_block(f"runde-{n}") for n in range(args.rounds)]
    slips = [poll_block(f"zettel-{n}", who="token") for n in range(args.rounds)]
    files = {
        "abstimmen.md": page("Abstimmen", rounds + slips),
        "ergebnis.md": page("Ergebnis", [poll_block("gross"), poll_block("rang", "rangfolge")]),
        "parallel.md": page("Parallel", [poll_block("parallel", who="angemeldet")]),
    }
    state.store.commit(files, base=state.store.head(), author=author, message="Umfragen")
    with app.app_context():
        state.syncer.sync()
        users = args.voters + args.parallel // 2
        with state.sessions() as session:
            for n in range(users):
                create_user(session, f"w{n:05d}", f"Wählerin {n}", f"w{n}@example.org", PASSWORD)
            session.commit()
            raw = {f"zettel-{n}": tokens.issue(session, f"zettel-{n}", args.voters)
                   for n in range(args.rounds)}  # fmt: skip
            raw["parallel"] = tokens.issue(session, "parallel", args.parallel - args.parallel // 2)
            session.commit()
    log(f"{len(files)} pages, {users} accounts, slips issued")
    fill_ballots(instance / "wiki.sqlite", args.ballots)
    took = time.perf_counter() - start
    report.add("setup: pages, accounts, slips, ballots", f"{took:.1f} s")
    return app, raw


def fill_ballots(database: Path, count: int) -> None:
    """``count`` counted ballots in each big poll, written straight into SQLite (as if cast),
    with the version counter bumped once."""
    rng = random.Random(7)
    keys = list(OPTIONS)
    weights = [5, 4, 3, 2, 1]
    with sqlite3.connect(database) as db:
        single = [
            (
                "gross",
                json.dumps({"choice": rng.choices(keys, weights)[0]}, separators=(",", ":")),
            )
            for _ in range(count)
        ]
        ranked = []
        for _ in range(count):
            order = sorted(keys, key=lambda k: rng.random() * weights[keys.index(k)])[::-1]
            ranked.append(
                ("rang", json.dumps({"ranking": order[: rng.randint(1, 5)]}, separators=(",", ":")))
            )
        db.executemany(
            "INSERT INTO polls_votes (poll_id, answer, created_at, updated_at)"
            " VALUES (?, ?, datetime('now'), datetime('now'))",
            single + ranked,
        )
        db.execute(
            "UPDATE polls_state SET version = version + 1 WHERE poll_id IN ('gross', 'rang')"
        )
    log(f"{count} ballots each in 'gross' and 'rang'")


def logged_in(app, handle: str):
    client = app.test_client()
    data = {"handle": handle, "password": PASSWORD, "csrf_token": csrf(client, "/-/login")}
    response = client.post("/-/login", data=data)
    if response.status_code != 302:
        raise RuntimeError(f"login of {handle}: HTTP {response.status_code}")
    return client


def csrf(client, path: str) -> str:
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    if not match:
        raise RuntimeError(f"no CSRF token on {path}")
    return match.group(1)


def timed_post(client, path: str, data: dict, expect: int = 302) -> float:
    start = time.perf_counter()
    response = client.post(path, data=data)
    response.get_data()
    took = time.perf_counter() - start
    if response.status_code != expect:
        raise RuntimeError(f"POST {path}: HTTP {response.status_code}")
    return took


def timed_get(client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    response.get_data()
    took = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
    return took


def spread(values: list[float]) -> str:
    """Median with min–max, in ms."""
    low, mid, high = (v * 1000 for v in (min(values), statistics.median(values), max(values)))
    return f"{mid:.1f} ms ({low:.1f}–{high:.1f})"


def votes(app, raw: dict, args, report: Report) -> None:
    """Section 1: first votes by account and by slip, per round on a fresh poll."""
    rng = random.Random(3)
    keys = list(OPTIONS)
    account_p50, slip_p50, view_p50 = [], [], []
    log(f"logging in {args.voters} accounts")
    clients = [logged_in(app, f"w{n:05d}") for n in range(args.voters)]
    tokens_of = {c: csrf(c, "/-/polls/runde-0") for c in clients}
    for number in range(args.rounds):
        poll = f"runde-{number}"
        views = [timed_get(clients[i % len(clients)], f"/-/polls/{poll}") for i in range(30)]
        durations = [
            timed_post(
                client,
                f"/-/polls/{poll}/vote",
                {"csrf_token": tokens_of[client], "choice": rng.choice(keys)},
            )
            for client in clients
        ]
        anon = app.test_client()
        token = csrf(anon, f"/-/polls/zettel-{number}/token")
        slips = [
            timed_post(
                anon,
                f"/-/polls/zettel-{number}/vote",
                {"csrf_token": token, "token": raw_token, "choice": rng.choice(keys)},
            )
            for raw_token in raw[f"zettel-{number}"]
        ]
        account_p50.append(pct(durations, 0.5))
        slip_p50.append(pct(slips, 0.5))
        view_p50.append(pct(views, 0.5))
        log(
            f"round {number + 1}: account vote p50 {ms(account_p50[-1])}, slip vote p50 "
            f"{ms(slip_p50[-1])}, poll page p50 {ms(view_p50[-1])}"
        )
        count = counted(app, poll) + counted(app, f"zettel-{number}")
        if count != 2 * args.voters:
            raise RuntimeError(f"round {number + 1}: {count} votes counted, {2 * args.voters} cast")
    median = statistics.median(account_p50)
    report.add(
        f"vote POST, account, first vote: p50 (median of {args.rounds} rounds × "
        f"{args.voters}, min–max)",
        spread(account_p50),
        f"≤ {ms(TARGET_VOTE)}",
        median <= TARGET_VOTE,
    )
    report.add(
        f"vote POST, printed slip (token consumed): p50 (median of {args.rounds} rounds × "
        f"{args.voters}, min–max)",
        spread(slip_p50),
        f"≤ {ms(TARGET_VOTE)}",
        statistics.median(slip_p50) <= TARGET_VOTE,
    )
    report.add("  poll page GET (same poll): p50 (median of rounds)", spread(view_p50))
    report.add(
        "  ratio vote POST / poll page GET",
        f"{median / statistics.median(view_p50):.2f}×",
    )


def counted(app, poll_id: str) -> int:
    from sqlalchemy import func, select

    from plugins.polls.models import Vote

    with app.extensions["wiki"].sessions() as session:
        return session.scalar(select(func.count()).where(Vote.poll_id == poll_id))


def results(app, args, report: Report) -> None:
    """Section 2: the results page of the polls with ``--ballots`` ballots."""
    client = logged_in(app, "w00000")
    token = csrf(client, "/-/polls/gross")
    for poll, label in (("gross", "single choice, 5 options"), ("rang", "ranked, Schulze, 5")):
        path = f"/-/polls/{poll}"
        cold = []
        for _ in range(3):
            # a new vote (or a changed one) bumps the version: the next view tallies again
            choice = {"choice": "o1"} if poll == "gross" else {"rank-o1": "1", "rank-o2": "2"}
            timed_post(client, f"{path}/vote", {"csrf_token": token, **choice})
            cold.append(timed_get(client, path))
        warm = [timed_get(client, path) for _ in range(args.views)]
        p50 = pct(warm, 0.5)
        report.add(
            f"results page, {args.ballots} ballots ({label}): cached p50 / p95",
            f"{ms(p50)} / {ms(pct(warm, 0.95))}",
            f"≤ {ms(TARGET_RESULTS)}",
            p50 <= TARGET_RESULTS,
        )
        report.add(
            "  first view after a new vote (tally computed): median (min–max) of 3",
            spread(cold),
            "",
        )
        report.add("  ratio first view / cached view", f"{statistics.median(cold) / p50:.1f}×")
        log(f"{poll}: cold {spread(cold)}, warm p50 {ms(p50)}")


def parallel(workdir: Path, raw: dict, args, report: Report) -> None:
    """Section 3: ``--parallel`` voters at once against gunicorn with 4 workers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env.update(
        WIKI_INSTANCE=str(workdir / "instance"),
        WIKI_PLUGINS=",".join(PLUGINS),
        WIKI_MAIL_WORKER="0",
    )
    server = Server(
        "polls", "wiki:create_app()", env, workdir, SimpleNamespace(workers=4, server_threads=4)
    )
    accounts = args.parallel // 2
    slips = list(raw["parallel"])
    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    work = [("account", f"w{args.voters + n:05d}") for n in range(accounts)]
    work += [("slip", token) for token in slips]
    random.Random(5).shuffle(work)
    todo = iter(work)

    def voter() -> None:
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            kind, value = item
            try:
                session = Session(server.port)
                form = {"choice": random.choice(list(OPTIONS))}
                if kind == "account":
                    session.login(value, PASSWORD)
                    path = "/-/polls/parallel/vote"
                else:
                    _status, body = session.request("/-/polls/parallel/token")
                    session.token = CSRF_RE.search(body).group(1)
                    form["token"] = value
                    path = "/-/polls/parallel/vote"
                start = time.perf_counter()
                status, _body = session.request(path, form)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    if status != 302:
                        errors.append(f"{kind}: HTTP {status}")
            except Exception as exc:  # noqa: BLE001 - every failure counts as an error
                with lock:
                    errors.append(f"{kind}: {type(exc).__name__}: {exc}")

    try:
        log("starting gunicorn (4 workers)")
        server.wait_ready("/-/polls/parallel")
        threads = [threading.Thread(target=voter, daemon=True) for _ in range(16)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
    finally:
        server.stop()
    with sqlite3.connect(workdir / "instance" / "wiki.sqlite") as db:
        count = db.execute("SELECT count(*) FROM polls_votes WHERE poll_id = 'parallel'").fetchone()
        used = db.execute(
            "SELECT count(*) FROM polls_tokens WHERE poll_id = 'parallel' AND used"
        ).fetchone()
    exact = count[0] == len(work) and used[0] == len(slips)
    report.add(
        f"{len(work)} voters in parallel ({accounts} accounts, {len(slips)} slips; gunicorn 4 "
        "workers × 4 threads, 16 clients): errors",
        f"{len(errors)}" + (f" (e.g. {errors[0][:80]})" if errors else ""),
        "0",
        not errors,
    )
    report.add(
        "  counted votes / tokens used",
        f"{count[0]} / {used[0]} (expected {len(work)} / {len(slips)})",
        "exact",
        exact,
    )
    report.add(
        "  vote POST under load: p50 / p95; wall time",
        f"{ms(pct(latencies, 0.5))} / {ms(pct(latencies, 0.95))}; {seconds:.1f} s",
    )
    log(f"parallel: {len(errors)} errors, {count[0]} counted, {used[0]} tokens used")


def run(args, workdir: Path) -> Report:
    report = Report()
    app, raw = build(args, workdir, report)
    state = app.extensions["wiki"]
    try:
        for name, section in (
            ("vote POST", lambda: votes(app, raw, args, report)),
            ("results page", lambda: results(app, args, report)),
            ("parallel voters", lambda: parallel(workdir, raw, args, report)),
        ):
            log(name)
            try:
                section()
            except Exception as exc:  # noqa: BLE001 - a failed section is reported, not fatal
                report.error(name, exc)
    finally:
        state.search.wait_idle()
        state.search.close()
        state.store.close()
        state.engine.dispose()
    report.notes.insert(
        0,
        environment(
            f"{args.voters} voters × {args.rounds} rounds, {args.ballots} ballots per big poll, "
            f"{args.parallel} parallel voters.",
            extra=[f"SQLite {sqlite3.sqlite_version}"],
        ),
    )
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=100, help="voters per round (100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of votes (3)")
    parser.add_argument("--ballots", type=int, default=10000, help="ballots per big poll")
    parser.add_argument("--views", type=int, default=50, help="cached result views (50)")
    parser.add_argument("--parallel", type=int, default=200, help="parallel voters (200)")
    add_workdir_options(parser)
    args = parser.parse_args(argv)
    if args.voters < 10 or args.rounds < 1 or args.parallel < 2 or args.ballots < 1:
        parser.error("--voters ≥ 10, --rounds ≥ 1, --parallel ≥ 2, --ballots ≥ 1")
    return args


def main(argv=None) -> int:
    return run_in_workdir(run, parse_args(argv), "wiki-polls-bench-")


if __name__ == "__main__":
    sys.exit(main())
