"""One served process hammered by 32 reading and 8 saving threads: no error, no hang."""

import http.cookiejar
import random
import re
import threading
import urllib.parse
import urllib.request
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from conftest import CSRF_RE, PASSWORD

pytestmark = pytest.mark.slow


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # 40 clients connect at once; the default listen backlog of 5 makes the kernel reset some
    # connections before the server sees them (gunicorn's backlog is 2048).
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def opener_logged_in(base, handle):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/-/login").read().decode()
    token = CSRF_RE.search(page).group(1)
    data = urllib.parse.urlencode({"handle": handle, "password": PASSWORD, "csrf_token": token})
    opener.open(base + "/-/login", data.encode()).read()
    return opener


def test_threads_read_and_save_concurrently(app):
    server = make_server(
        "127.0.0.1", 0, app, server_class=ThreadingServer, handler_class=QuietHandler
    )
    base = f"http://127.0.0.1:{server.server_port}"
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    errors: list[str] = []
    saved = []

    def reader(n):
        rnd = random.Random(n)
        for _ in range(15):
            url = rnd.choice(
                [
                    "/",
                    "/hilfe",
                    "/-/history/start",
                    "/-/pages",
                    "/-/changes",
                    "/-/api/v1/pages/start",
                    f"/seite-{rnd.randrange(8)}",
                ]
            )
            try:
                with urllib.request.urlopen(base + url, timeout=30) as response:
                    response.read()
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    errors.append(f"{url}: {exc.code}")
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{url}: {exc!r}")

    def saver(n):
        try:
            opener = opener_logged_in(base, "alice")
            for i in range(5):
                path = f"seite-{n}"
                page = opener.open(f"{base}/-/edit/{path}").read().decode()
                token = CSRF_RE.search(page).group(1)
                base_rev = re.search(r'name="base" value="([0-9a-f]*)"', page).group(1)
                data = urllib.parse.urlencode(
                    {
                        "text": f"# Seite {n}\nVersion {i}\n",
                        "base": base_rev,
                        "message": f"v{i}",
                        "csrf_token": token,
                    }
                )
                opener.open(f"{base}/-/edit/{path}", data.encode(), timeout=30).read()
                saved.append((path, i))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"save {n}: {exc!r}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(32)]
    threads += [threading.Thread(target=saver, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    alive = [t for t in threads if t.is_alive()]
    server.shutdown()
    assert not alive, "threads hung"
    assert not errors, errors[:5]
    assert len(saved) == 40
    store = app.extensions["wiki"].store
    for n in range(8):
        assert store.read(f"seite-{n}.md").decode().endswith("Version 4\n")
    assert app.extensions["wiki"].syncer.check() == []
