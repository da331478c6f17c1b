"""What the browser tests share: Debian's Chromium with the flags this machine needs, a wiki
served on a free local port, and a watch on console errors (CSP violations among them)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log_request(self, code="-", size="-") -> None:
        pass


@contextmanager
def serve(app, base_url: bool = False) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 in a background thread; yield its base URL
    (with ``base_url``, also the app's ``WIKI_BASE_URL``, for links in mails and QR codes).
    Afterwards the server stops and the app's index, repository and database are closed."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    if base_url:
        app.config["WIKI_BASE_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        state = app.extensions["wiki"]
        state.search.wait_idle()
        state.search.close()
        state.store.close()
        state.engine.dispose()


def watch(page, problems: list[tuple[str, str]]) -> None:
    """Record console errors (CSP violations among them) and uncaught script errors as
    (url, text)."""

    def on_console(message) -> None:
        if message.type == "error":
            problems.append((message.location.get("url") or page.url, message.text))

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append((page.url, f"uncaught: {error}")))
