"""Start-up objects are frozen out of the garbage collector's reach once the app is built, so
no full collection inside a request walks them again (issue 13) — but not in tests, where
every test builds an app and frozen objects would never be freed."""

from __future__ import annotations

import gc

from wiki import create_app


def build(tmp_path, monkeypatch, **config):
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(gc.get_count()))
    app = create_app(
        {
            "SECRET_KEY": "x" * 32,
            "WIKI_INSTANCE": str(tmp_path / "instance"),
            "WIKI_MAIL_WORKER": False,
            **config,
        }
    )
    app.extensions["wiki"].engine.dispose()
    return calls


def test_create_app_freezes_what_start_up_made(tmp_path, monkeypatch):
    calls = build(tmp_path, monkeypatch)
    assert len(calls) == 1
    assert calls[0][2] == 0  # a full collection ran just before: nothing left to collect


def test_tests_do_not_freeze(tmp_path, monkeypatch):
    assert build(tmp_path, monkeypatch, TESTING=True) == []
