"""Benchmark of a large instance: page views under gunicorn, saves, history, reindex, RSS.

Builds an instance with ``--pages`` pages (default 10,000; ``--quick``: 1,000) and one commit per
page, written straight into the bare repository with ``git fast-import``, then measures in one
run and prints a markdown table to stdout (progress goes to stderr):

1. cached page views per second under gunicorn (gthread) against a bare Flask app that returns a
   constant page of the same size, rounds interleaved, ``Connection: close``;
2. ``Content.save`` p50/p95 including the post-commit sync, and raw ``GitStore.commit`` p50;
3. ``GitStore.history`` p50 before and after ``GitStore.maintain`` (commit-graph with Bloom
   filters);
4. the initial full sync and ``Syncer.reindex``;
5. single-client page views, anonymous and logged in taking turns: cached ones (the hot pages
   after each worker has served each of them to both readers) and first views of other pages;
6. the VmRSS of each of the wiki's gunicorn workers after the throughput rounds, after
   ``--searches`` mixed searches, after ``--http-saves`` saves through the editor (each followed
   by two searches) and after ``--idle`` seconds without requests, and the peak.

Usage::

    .venv/bin/python bench/core.py --quick
    .venv/bin/python bench/core.py > bench/out/core.md

Only 127.0.0.1 is contacted. Both servers are stopped at the end and the temporary folder is
removed unless ``--keep`` is given.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Report,
    add_workdir_options,
    environment,
    fast_import,
    git_env,
    log,
    ms,
    pct,
    run_in_workdir,
    timed,
)

NOREPLY = "noreply.invalid"
CLIENT_TIMEOUT = 15


# --------------------------------------------------------------------------------------------
# the bare comparison app (imported by gunicorn as ``bench.core:bare_app()``)

FILLER = (
    "Der Vorstand berät die Einladung zur ordentlichen Mitgliederversammlung und beschließt "
    "einstimmig die vorläufige Tagesordnung. "
)


def filler_html(size: int) -> bytes:
    """An HTML page of exactly ``size`` bytes (at least the fixed frame)."""
    head = b"<!doctype html><html lang=de><head><meta charset=utf-8><title>Seite</title></head>"
    head += b"<body><main><p>"
    tail = b"</p></main></body></html>\n"
    room = max(0, size - len(head) - len(tail))
    text = (FILLER.encode("utf-8") * (room // len(FILLER) + 1))[:room]
    return head + text + tail


def bare_app():
    """A Flask app answering every GET with one constant page of ``BENCH_BARE_BYTES`` bytes."""
    from flask import Flask, Response

    body = filler_html(int(os.environ.get("BENCH_BARE_BYTES", "20000")))
    app = Flask("bare")

    @app.get("/")
    @app.get("/<path:path>")
    def page(path: str = ""):
        return Response(body, mimetype="text/html")

    return app


# --------------------------------------------------------------------------------------------
# content: German-like pages with wikilinks, nested two to three levels deep

AREAS = [
    "verband", "gliederungen", "beschluesse", "arbeitskreise", "projekte", "veranstaltungen",
    "presse", "finanzen", "satzung", "bildung", "kampagnen", "mitglieder", "jugend", "umwelt",
    "soziales", "digitales", "kultur", "internationales", "recht", "archiv",
]  # fmt: skip
TOPICS = [
    "protokolle", "antraege", "haushalt", "wahlen", "termine", "positionen", "material",
    "leitfaeden", "berichte", "kontakte", "vorlagen", "ideen",
]  # fmt: skip
KINDS = [
    ("Protokoll", "protokoll"), ("Antrag", "antrag"), ("Bericht", "bericht"),
    ("Leitfaden", "leitfaden"), ("Einladung", "einladung"), ("Stellungnahme", "stellungnahme"),
    ("Positionspapier", "positionspapier"), ("Notiz", "notiz"), ("Checkliste", "checkliste"),
    ("Rundbrief", "rundbrief"),
]  # fmt: skip
NOUNS = [
    "Vorstand", "Mitgliederversammlung", "Beschluss", "Antrag", "Satzung", "Kreisverband",
    "Ortsverband", "Landesverband", "Haushalt", "Kasse", "Protokoll", "Arbeitskreis", "Sitzung",
    "Tagesordnung", "Einladung", "Wahl", "Delegiertenversammlung", "Kampagne", "Veranstaltung",
    "Pressemitteilung", "Mitgliedschaft", "Beitragsordnung", "Förderung", "Projektgruppe",
    "Bildungsarbeit", "Jugendorganisation", "Öffentlichkeitsarbeit", "Geschäftsordnung",
    "Schatzmeisterin", "Versammlungsleitung", "Anfrage", "Stellungnahme", "Gliederung",
    "Geschäftsstelle", "Datenschutzerklärung", "Infostand", "Flugblatt", "Rundbrief", "Bündnis",
    "Kassenprüfung", "Wahlordnung", "Schiedskommission", "Landesausschuss", "Fördermittel",
]  # fmt: skip
VERBS = [
    "beschließt", "berät", "unterstützt", "prüft", "beantragt", "organisiert", "veröffentlicht",
    "diskutiert", "bestätigt", "verschiebt", "plant", "begrüßt", "erarbeitet", "überarbeitet",
    "koordiniert", "übernimmt", "ergänzt", "vertagt",
]  # fmt: skip
ADJECTIVES = [
    "neue", "zuständige", "ordentliche", "außerordentliche", "öffentliche", "interne",
    "gemeinsame", "regionale", "jährliche", "vorläufige", "geänderte", "ehrenamtliche",
    "überörtliche", "nächste", "bisherige",
]  # fmt: skip
ADVERBS = [
    "einstimmig", "mehrheitlich", "nach kurzer Aussprache", "im Umlaufverfahren", "ausführlich",
    "kurzfristig", "erneut", "vorbehaltlich der Finanzierung", "bis zur nächsten Sitzung",
    "gemäß Satzung", "ohne Gegenstimmen", "nach längerer Diskussion",
]  # fmt: skip
HEADINGS = [
    "Hintergrund", "Beschlusslage", "Ablauf", "Zuständigkeiten", "Offene Fragen", "Termine",
    "Finanzierung", "Ergebnisse", "Nächste Schritte", "Anlagen", "Diskussion", "Zusammenfassung",
]  # fmt: skip
TAGS = ["protokoll", "beschluss", "vorstand", "finanzen", "presse", "termine", "satzung", "wahl"]


@dataclass
class PagePlan:
    path: str
    title: str
    tags: list[str]

    @property
    def filename(self) -> str:
        return self.path + ".md"


def plan_pages(count: int, rng: random.Random) -> list[PagePlan]:
    """``count`` pages: area pages, topic pages below them, then leaves two or three deep."""
    areas = AREAS[: max(1, min(len(AREAS), count // 50))]
    plans: list[PagePlan] = []
    topics: list[str] = []
    for area in areas:
        if len(plans) < count:
            plans.append(PagePlan(area, f"Bereich {area.capitalize()}", ["bereich"]))
    for area in areas:
        for topic in TOPICS[:10]:
            if len(plans) < count:
                path = f"{area}/{topic}"
                topics.append(path)
                plans.append(PagePlan(path, f"{area.capitalize()} – {topic.capitalize()}", []))
    number = 0
    while len(plans) < count:
        number += 1
        kind, slug = rng.choice(KINDS)
        parent = rng.choice(areas) if rng.random() < 0.3 or not topics else rng.choice(topics)
        title = f"{kind} {rng.choice(NOUNS)} {number:05d}"
        tags = rng.sample(TAGS, rng.randint(0, 3))
        plans.append(PagePlan(f"{parent}/{slug}-{number:05d}", title, tags))
    return plans


def _sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(['Der', 'Die', 'Das'])} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} "
        f"{rng.choice(VERBS)} {rng.choice(ADVERBS)} die {rng.choice(ADJECTIVES)} "
        f"{rng.choice(NOUNS)}."
    )


def _paragraph(rng: random.Random, links: list[str]) -> str:
    sentences = [_sentence(rng) for _ in range(rng.randint(3, 6))]
    if links:
        sentences.insert(rng.randint(1, len(sentences)), f"Siehe auch {links.pop()}.")
    return " ".join(sentences)


def page_text(plan: PagePlan, rng: random.Random, plans: list[PagePlan], size: int = 3000) -> bytes:
    """Markdown with front matter of about ``size`` bytes and a few wikilinks."""
    targets = rng.sample(plans, min(len(plans), 4))
    links = [f"[[{t.path}|{t.title}]]" for t in targets]
    if rng.random() < 0.2:
        links.append(f"[[{plan.path.split('/')[0]}/noch-anzulegen-{rng.randint(1, 999)}]]")
    rng.shuffle(links)
    front = ["---", f"title: {plan.title}", "visibility: public"]
    if plan.tags:
        front.append("tags:")
        front += [f"  - {tag}" for tag in plan.tags]
    parts = ["\n".join([*front, "---"]), f"# {plan.title}", _paragraph(rng, links)]
    length = sum(len(p.encode("utf-8")) + 2 for p in parts)
    while length < size:
        block = [f"## {rng.choice(HEADINGS)}", _paragraph(rng, links)]
        if rng.random() < 0.4:
            items = [f"- {_sentence(rng)}" for _ in range(rng.randint(2, 4))]
            if links:
                items.append(f"- {links.pop()}")
            block.append("\n".join(items))
        parts += block
        length += sum(len(p.encode("utf-8")) + 2 for p in block)
    return ("\n\n".join(parts) + "\n").encode("utf-8")


def history_commits(plans: list[PagePlan], seed: dict[str, bytes], rng_seed: int):
    """One commit per page, oldest first (the seed files go in commit 1), for ``fast_import``."""
    rng = random.Random(rng_seed)
    authors = [f"{rng.getrandbits(64):016x}" for _ in range(300)]
    when = 1_600_000_000
    for index, plan in enumerate(plans):
        page_rng = random.Random(rng_seed * 1_000_003 + index)
        author = rng.choice(authors)
        when += rng.randint(60, 3600)
        files = list(seed.items()) if index == 0 else []
        files.append((plan.filename, page_text(plan, page_rng, plans)))
        yield when, f"u-{author} <{author}@{NOREPLY}>", f"Seite „{plan.title}“ angelegt", files


def import_history(repo: Path, plans: list[PagePlan], seed: dict[str, bytes], rng_seed: int):
    """One commit per page on ``main`` via ``git fast-import`` (the seed files go in commit 1)."""
    fast_import(repo, history_commits(plans, seed, rng_seed), total=len(plans), log_every=2000)


# --------------------------------------------------------------------------------------------
# measuring helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Session:
    """A logged-in browser: cookies, CSRF token, ``Connection: close`` (any worker answers).

    Cookies are kept by hand in a dict (one host, no expiry to honour)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, path: str, form: dict | None = None) -> tuple[int, str]:
        from urllib.parse import urlencode

        headers = {"Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT * 4)
        try:
            conn.request("POST" if form is not None else "GET", path, body=body, headers=headers)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, value = header.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def login(self, handle: str, password: str) -> None:
        import re

        pattern = re.compile(r'name="csrf_token" value="([^"]+)"')
        _status, body = self.request("/-/login")
        self.token = pattern.search(body).group(1)
        status, body = self.request("/-/login", {"handle": handle, "password": password})
        if status != 302:
            raise RuntimeError(f"login failed: HTTP {status}")
        _status, body = self.request("/-/account")
        self.token = pattern.search(body).group(1)


def search_queries(rng: random.Random, count: int) -> list[str]:
    """Mixed queries: words, two words, phrases, prefixes, filters, OR, exclusions, typos."""
    makers = [
        lambda: rng.choice(NOUNS),
        lambda: f"{rng.choice(NOUNS)} {rng.choice(VERBS)}",
        lambda: f'"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"',
        lambda: rng.choice(NOUNS)[:5] + "*",
        lambda: f"{rng.choice(NOUNS)} tag:{rng.choice(TAGS)}",
        lambda: f"{rng.choice(NOUNS)} OR {rng.choice(NOUNS)}",
        lambda: f"{rng.choice(NOUNS)} -{rng.choice(VERBS)}",
        lambda: (lambda w: w[:3] + "x" + w[4:])(rng.choice(NOUNS)),
    ]
    return [makers[i % len(makers)]() for i in range(count)]


def search_paths(queries: list[str]) -> list[str]:
    from urllib.parse import quote

    return [f"/-/search?q={quote(q)}" for q in queries]


@dataclass
class Round:
    seconds: float
    latencies: list[float]
    errors: list[str]
    bytes_mean: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def load(port: int, paths: list[str], threads: int, max_errors: int = 20) -> Round:
    """GET every path once with ``threads`` client threads, a new connection per request.

    Stops early once more than ``max_errors`` requests failed (a broken server must not keep
    the benchmark busy for an hour of time-outs).
    """
    lock = threading.Lock()
    todo = iter(paths)
    latencies: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []

    def client() -> None:
        while True:
            with lock:
                path = None if len(errors) > max_errors else next(todo, None)
            if path is None:
                return
            start = time.perf_counter()
            try:
                status, body = get(port, path, timeout=CLIENT_TIMEOUT)
            except OSError as exc:
                with lock:
                    errors.append(f"{path}: {exc}")
                continue
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                sizes.append(len(body))
                if status != 200:
                    errors.append(f"{path}: HTTP {status}")

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - start
    return Round(seconds, latencies, errors, statistics.fmean(sizes) if sizes else 0.0)


class Server:
    """gunicorn with gthread workers on 127.0.0.1 in its own process group."""

    def __init__(self, name: str, spec: str, env: dict[str, str], logdir: Path, args):
        self.name = name
        self.port = free_port()
        self.logfile = logdir / f"gunicorn-{name}.log"
        command = [
            sys.executable, "-m", "gunicorn",
            "--worker-class", "gthread",
            "--workers", str(args.workers),
            "--threads", str(args.server_threads),
            "--bind", f"127.0.0.1:{self.port}",
            "--chdir", str(ROOT),
            "--graceful-timeout", "5",
            "--log-level", "warning",
            spec,
        ]  # fmt: skip
        self._log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _body = get(self.port, path, timeout=10)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        tail = self.logfile.read_text("utf-8", "replace")[-3000:]
        raise RuntimeError(f"{self.name} server did not answer {path} with 200:\n{tail}")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            fields = stat.rsplit(b")", 1)[-1].split()
            if len(fields) > 1 and int(fields[1]) == self.proc.pid:
                pids.append(int(entry))
        return sorted(pids)

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/status") as fh:
                    for line in fh:
                        if line.startswith("VmRSS:"):
                            sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return sizes

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        for pid in self.worker_pids():  # orphans would be reparented; this is belt and braces
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self._log.close()
        text = self.logfile.read_text("utf-8", "replace")
        if "Traceback" in text:
            log(f"{self.name} server logged {text.count('Traceback')} tracebacks; the last one:")
            print(text[text.rfind("Traceback") :][-4000:], file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# the run


def workload(pages: int, commits: int, args) -> str:
    return (
        f"{pages} pages, {commits} commits; gunicorn gthread {args.workers} workers × "
        f"{args.server_threads} threads; load: {args.client_threads} client threads, "
        f"Connection: close, {args.requests} requests × {args.rounds} rounds each."
    )


def throughput(report: Report, instance: Path, hot: list[str], plans, workdir: Path, args) -> None:
    """Interleaved rounds wiki/bare; then the RSS of the wiki's workers through the memory
    phases (:func:`memory_phases`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["WIKI_INSTANCE"] = str(instance)
    rng = random.Random(args.seed + 1)
    servers: list[Server] = []
    try:
        log("starting wiki gunicorn")
        wiki_server = Server("wiki", "wiki:create_app()", env, workdir, args)
        servers.append(wiki_server)
        wiki_server.wait_ready("/" + hot[0])
        warm = [f"/{p}" for _ in range(args.warm_passes) for p in rng.sample(hot, len(hot))]
        log(f"warming the render caches: {len(warm)} requests over {len(hot)} pages")
        warmed = load(wiki_server.port, warm, args.client_threads)
        if warmed.errors:
            raise RuntimeError(
                f"{len(warmed.errors)} failed warm-up requests (see {wiki_server.logfile.name}), "
                f"e.g. {warmed.errors[:3]}"
            )
        size = round(warmed.bytes_mean)
        log(f"mean wiki page size {size} bytes; starting bare gunicorn")
        bare = Server("bare", "bench.core:bare_app()", {**env, "BENCH_BARE_BYTES": str(size)},
                      workdir, args)  # fmt: skip
        servers.append(bare)
        bare.wait_ready("/" + hot[0])
        load(bare.port, [f"/{p}" for p in rng.choices(hot, k=len(hot))], args.client_threads)
        results: dict[str, list[Round]] = {"wiki": [], "bare": []}
        for number in range(1, args.rounds + 1):
            for name, server in (("wiki", wiki_server), ("bare", bare)):
                paths = [f"/{p}" for p in rng.choices(hot, k=args.requests)]
                result = load(server.port, paths, args.client_threads)
                results[name].append(result)
                log(
                    f"round {number} {name}: {result.rps:.0f} req/s, "
                    f"p50 {ms(pct(result.latencies, 0.5))}, errors {len(result.errors)}"
                )
        rss = wiki_server.worker_rss_mb()
        bare_rss = bare.worker_rss_mb()
        bare.stop()
        servers.remove(bare)
        seen = set(hot)
        others = [p.path for p in plans if p.path.count("/") >= 1 and p.path not in seen]
        fresh = random.Random(args.seed + 7).sample(others, min(args.first, len(others)))
        single, first = single_client(wiki_server, hot, fresh, args)
        phases = memory_phases(wiki_server, plans, instance, rss, args)
    finally:
        for server in servers:
            server.stop()
        log("servers stopped")
    medians = {}
    for name in ("wiki", "bare"):
        rounds = results[name]
        medians[name] = statistics.median(r.rps for r in rounds)
        latencies = [x for r in rounds for x in r.latencies]
        errors = sum(len(r.errors) for r in rounds)
        report.add(
            f"{name}: page views/s (median of {len(rounds)})",
            f"{medians[name]:.0f} req/s ({', '.join(f'{r.rps:.0f}' for r in rounds)})",
        )
        report.add(
            f"{name}: latency p50 / p95",
            f"{ms(pct(latencies, 0.5))} / {ms(pct(latencies, 0.95))}"
            + (f"; {errors} errors" if errors else ""),
            "",
            None if not errors else False,
        )
    ratio = medians["wiki"] / medians["bare"] if medians["bare"] else 0.0
    report.add("wiki / bare throughput", f"{ratio * 100:.0f} %", "≥ 40 %", ratio >= 0.40)
    for name, values in single.items():
        target = "≤ 2.5 ms" if name == "logged in" else ""
        report.add(
            f"single client, {name}: cached page view p50 (min … max of {len(values)})",
            f"{ms(pct(values, 0.5))} ({ms(min(values))} … {ms(max(values))})",
            target,
            pct(values, 0.5) <= 0.0025 if target else None,
        )
    for name, values in first.items():
        if values:
            report.add(
                f"single client, {name}: first view of a page p50 (min … max of {len(values)})",
                f"{ms(pct(values, 0.5))} ({ms(min(values))} … {ms(max(values))})",
            )
    report.add("bare worker RSS, max", f"{max(bare_rss, default=0):.0f} MB")
    report_memory(report, phases)


def single_client(server: Server, hot: list[str], fresh: list[str], args):
    """Page views one at a time, anonymous and logged in taking turns (seconds).

    Cached views: the hot pages, once each worker has served each of them to both readers (a
    page's view is kept per worker, allow-set and rights). First views: pages neither worker
    has shown yet, anonymous first (which renders the text) and then logged in (which builds
    the links, breadcrumbs and frame of its allow-set anew)."""
    session = Session(server.port)
    session.login("bench", "bench-password")
    log(f"warming: {len(hot)} hot pages, {WARM_ROUNDS} times each as each reader")
    for path in hot:
        for _ in range(WARM_ROUNDS):
            get(server.port, "/" + path)
            session.request("/" + path)
    rng = random.Random(args.seed + 6)
    times: dict[str, list[float]] = {"anonymous": [], "logged in": []}
    log(f"{args.single} single-client page views each, anonymous and logged in")
    for _ in range(args.single):
        view_both("/" + rng.choice(hot), server, session, times)
    first: dict[str, list[float]] = {"anonymous": [], "logged in": []}
    log(f"{len(fresh)} first views each")
    for path in fresh:
        view_both("/" + path, server, session, first)
    return times, first


#: How often each hot page is requested per reader before the cached views are measured: with
#: ``Connection: close`` either worker may answer, and 6 tries miss one of two with 3 %.
WARM_ROUNDS = 6


def view_both(path: str, server: Server, session: Session, times: dict) -> None:
    """``path`` anonymously, then logged in; the durations appended to ``times``."""
    for name in times:
        start = time.perf_counter()
        status, _body = get(server.port, path) if name == "anonymous" else session.request(path)
        if status != 200:
            raise RuntimeError(f"{path} as {name}: HTTP {status}")
        times[name].append(time.perf_counter() - start)


def memory_phases(server: Server, plans: list[PagePlan], instance: Path, after_views, args):
    """Worker RSS (MB per worker) after the page views, after ``--searches`` mixed searches,
    after ``--http-saves`` saves through the editor (each followed by two searches, so every
    worker opens the new index generation) and after ``--idle`` seconds without requests.

    Returns ``[(phase, [MB per worker])]``; the saves go through HTTP so that the workers
    themselves commit, sync and update the search index, as in production."""
    from wiki.storage import GitStore

    rng = random.Random(args.seed + 5)
    phases = [("after page views", after_views)]
    queries = search_queries(rng, args.searches)
    log(f"{len(queries)} mixed searches")
    result = load(server.port, search_paths(queries), args.client_threads)
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} failed searches, e.g. {result.errors[:3]}")
    phases.append((f"after {len(queries)} searches", server.worker_rss_mb()))
    session = Session(server.port)
    session.login("bench", "bench-password")
    store = GitStore(instance / "content.git", lock_path=instance / "write.lock")
    chosen = rng.sample([p for p in plans if "/" in p.path], args.http_saves)
    log(f"{len(chosen)} saves through the editor, each followed by two searches")
    failed = []
    peak = list(after_views)
    try:
        for number, plan in enumerate(chosen):
            text = store.read(plan.filename).decode("utf-8")
            text += f"\nErgänzung {number}: {_sentence(rng)}\n"
            status, _body = session.request(
                f"/-/edit/{plan.path}",
                {"text": text, "base": store.head(), "message": f"Ergänzung {number}"},
            )
            if status != 302:
                failed.append(f"{plan.path}: HTTP {status}")
            load(server.port, search_paths(search_queries(rng, 2)), 2)
            if number % 10 == 9:
                peak = [max(a, b) for a, b in zip(peak, server.worker_rss_mb(), strict=False)]
    finally:
        store.close()
    if failed:
        raise RuntimeError(f"{len(failed)} failed saves, e.g. {failed[:3]}")
    phases.append((f"after {len(chosen)} saves (+ 2 searches each)", server.worker_rss_mb()))
    log(f"idle for {args.idle} s")
    time.sleep(args.idle)
    phases.append((f"after {args.idle} s idle", server.worker_rss_mb()))
    phases.append(("peak (sampled every 10 saves)", [
        max(values) for values in zip(peak, *[p[1] for p in phases], strict=False)
    ]))  # fmt: skip
    return phases


def report_memory(report: Report, phases) -> None:
    """One row per phase; the peak against 150 MB and the idle figure against the page-view
    figure + 20 MB."""
    for phase, sizes in phases:
        if not sizes:
            report.add(f"wiki worker RSS {phase}", "no workers found", "", False)
            continue
        value = f"{max(sizes):.0f} MB ({', '.join(f'{x:.0f}' for x in sizes)})"
        if phase.startswith("peak"):
            report.add(f"wiki worker RSS {phase}, max", value, "≤ 150 MB", max(sizes) <= 150)
        elif phase.endswith("idle"):
            base = max(phases[0][1] or [0])
            report.add(f"wiki worker RSS {phase}, max", value, f"≤ {base + 20:.0f} MB "
                       "(page views + 20)", max(sizes) <= base + 20)  # fmt: skip
        else:
            report.add(f"wiki worker RSS {phase}, max", value)


def saves(report: Report, app, plans: list[PagePlan], args) -> None:
    """``Content.save`` (with validation and the post-commit sync) and raw ``GitStore.commit``."""
    from wiki.acl import Principal
    from wiki.content import Content
    from wiki.storage import Author

    state = app.extensions["wiki"]
    store = state.store
    rng = random.Random(args.seed + 2)
    chosen = rng.sample(plans, min(len(plans), 2 * args.saves))
    principal = Principal(user_id=1, public_id="bench", is_admin=True)
    content = Content(state)
    durations = []
    log(f"{args.saves} saves through Content.save")
    with app.app_context():
        for number, plan in enumerate(chosen[: args.saves]):
            text = store.read(plan.filename).decode("utf-8")
            text += f"\nErgänzung {number}: {_sentence(rng)}\n"
            base = store.head()
            start = time.perf_counter()
            content.save(principal, plan.path, text, base, f"Ergänzung {number}")
            durations.append(time.perf_counter() - start)
    report.add("save p50 (Content.save + sync)", ms(pct(durations, 0.5)), "≤ 40 ms",
               pct(durations, 0.5) <= 0.040)  # fmt: skip
    report.add("save p95 (Content.save + sync)", ms(pct(durations, 0.95)))
    raw = []
    author = Author("u-bench", f"bench@{NOREPLY}")
    log(f"{args.saves} raw GitStore.commit calls")
    for number, plan in enumerate(chosen[args.saves :]):
        data = store.read(plan.filename) + f"\nNachtrag {number}.\n".encode()
        base = store.head()
        start = time.perf_counter()
        store.commit({plan.filename: data}, base, author, f"Nachtrag {number}")
        raw.append(time.perf_counter() - start)
    report.add("GitStore.commit p50 / p95 (raw)", f"{ms(pct(raw, 0.5))} / {ms(pct(raw, 0.95))}")
    with app.app_context():
        state.syncer.sync()


def history(report: Report, app, plans: list[PagePlan], args) -> None:
    """``history(limit=50)`` of random pages before and after ``maintain``."""
    store = app.extensions["wiki"].store
    rng = random.Random(args.seed + 3)
    sample = [p.filename for p in rng.sample(plans, min(len(plans), args.histories))]

    def measure() -> list[float]:
        return [timed(lambda f=f: store.history(f, limit=50)) for f in sample]

    log(f"history of {len(sample)} pages before maintain")
    before = measure()
    log("maintain (commit-graph with changed-path filters)")
    took = timed(store.maintain)
    log(f"history of {len(sample)} pages after maintain")
    after = measure()
    for label, values in (("before maintain", before), ("after maintain", after)):
        report.add(f"history p50 ({label})", ms(pct(values, 0.5)), "≤ 20 ms",
                   pct(values, 0.5) <= 0.020)  # fmt: skip
        report.add(f"history p95 ({label})", ms(pct(values, 0.95)))
    report.add("maintain()", f"{took:.2f} s")


def repo_size_mb(repo: Path) -> float:
    return sum(f.stat().st_size for f in repo.rglob("*") if f.is_file()) / 1024 / 1024


def run(args, workdir: Path) -> Report:
    from wiki import create_app
    from wiki.cli import create_user, seed_files, write_instance_config
    from wiki.migrate import upgrade

    report = Report()
    instance = workdir / "instance"
    write_instance_config(instance)
    app = create_app(
        {
            "WIKI_INSTANCE": str(instance),
            "WIKI_MAIL_WORKER": False,
            "WIKI_PASSWORD_METHOD": "pbkdf2:sha256:1",
        }
    )
    state = app.extensions["wiki"]
    try:
        log("migrations")
        upgrade(state)
        state.store.init()
        rng = random.Random(args.seed)
        plans = plan_pages(args.pages, rng)
        log(f"writing {len(plans)} commits with git fast-import")
        took = timed(lambda: import_history(Path(state.store.repo_path), plans, seed_files(),
                                            args.seed))  # fmt: skip
        repo = Path(state.store.repo_path)
        report.add("setup: fast-import of all commits", f"{took:.1f} s, repo "
                   f"{repo_size_mb(repo):.0f} MB")  # fmt: skip
        with app.app_context():
            log("initial sync (full projection build)")
            took = timed(state.syncer.sync)
            report.add("initial sync (full projection build)", f"{took:.1f} s")
            log("reindex")

            def progress(done: int, total: int) -> None:
                if done % 2500 == 0 or done == total:
                    log(f"  reindex {done}/{total}")

            took = timed(lambda: state.syncer.reindex(progress=progress))
            report.add("full reindex (Syncer.reindex)", f"{took:.1f} s", "≤ 30 s", took <= 30)
            with state.sessions() as session:
                create_user(session, "bench", "Bench", "bench@example.org", "bench-password",
                            admin=True)  # fmt: skip
                session.commit()
        leaves = [p for p in plans if p.path.count("/") >= 1]
        hot = [p.path for p in random.Random(args.seed + 4).sample(leaves, min(200, len(leaves)))]
        try:
            throughput(report, instance, hot, plans, workdir, args)
        except Exception as exc:
            report.error("throughput", exc)
        try:
            saves(report, app, plans, args)
        except Exception as exc:
            report.error("saves", exc)
        try:
            history(report, app, plans, args)
        except Exception as exc:
            report.error("history", exc)
        commits = subprocess.run(
            ["git", "--git-dir", str(repo), "rev-list", "--count", "main"],
            capture_output=True, text=True, env=git_env(), check=False,
        ).stdout.strip()  # fmt: skip
        report.notes.append(environment(workload(len(plans), int(commits or 0), args)))
    finally:
        state.store.close()
        state.engine.dispose()
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, help="pages and commits (default 10000)")
    parser.add_argument("--quick", action="store_true", help="1000 pages, fewer requests")
    add_workdir_options(parser)
    parser.add_argument("--requests", type=int, help="requests per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server")
    parser.add_argument("--client-threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=4, help="gunicorn threads")
    parser.add_argument("--saves", type=int, help="saves and raw commits (default 200)")
    parser.add_argument("--histories", type=int, help="pages for history (default 200)")
    parser.add_argument("--single", type=int, default=300, help="single-client page views")
    parser.add_argument("--first", type=int, default=100, help="first views of unseen pages")
    parser.add_argument("--searches", type=int, default=200, help="searches for the RSS phase")
    parser.add_argument("--http-saves", type=int, default=100, help="saves for the RSS phase")
    parser.add_argument("--idle", type=int, default=30, help="idle seconds before the last RSS")
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args(argv)
    quick = args.quick
    args.pages = args.pages or (1000 if quick else 10_000)
    args.requests = args.requests or (500 if quick else 2000)
    args.saves = args.saves or (50 if quick else 200)
    args.histories = args.histories or (50 if quick else 200)
    args.warm_passes = 4 if quick else 8
    if args.pages < 30:
        parser.error("--pages must be at least 30")
    return args


def main(argv=None) -> int:
    return run_in_workdir(run, parse_args(argv), "wiki-bench-")


if __name__ == "__main__":
    sys.exit(main())
