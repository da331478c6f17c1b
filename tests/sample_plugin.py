"""A small plugin that exercises the public API: syntax, a page type, a widget, a blueprint and a
projection kept by the sync hooks. Enabled in tests through ``WIKI_PLUGINS=["sample_plugin"]``."""

from __future__ import annotations

import re

from flask import Blueprint, jsonify
from markupsafe import escape
from sqlalchemy import func, select

from wiki.api import PageRow, hookimpl

SHOUT_RE = r"!!(?P<shout_text>[^!\n]{1,80})!!"
#: page path → title, filled by wiki_page_changed (a projection of git, like a real plugin's table)
PROJECTION: dict[str, str] = {}
#: folders with this plugin's interface catalogs (a real plugin returns its ``translations``)
TRANSLATION_DIRS: list = []


def parse_shout(inline, m, state):
    state.append_token({"type": "sample_shout", "raw": m.group("shout_text")})
    return m.end()


def render_shout(renderer, text):
    return f'<strong class="shout">{escape(text.upper())}</strong>'


def shout_plugin(md):
    md.inline.register("sample_shout", SHOUT_RE, parse_shout, before="link")
    if md.renderer and md.renderer.NAME == "html":
        md.renderer.register("sample_shout", render_shout)


def validate_counter(new, old, ctx):
    if new is None or new.type != "counter":
        return []  # counters may be deleted or retyped freely
    problems = []
    start = new.meta.get("start")
    if not isinstance(start, int) or start < 0:
        problems.append("„start“ muss eine nicht negative ganze Zahl sein.")
    return problems


@hookimpl
def wiki_markdown_plugins():
    return [shout_plugin]


@hookimpl
def wiki_widget_kinds():
    return ["counter"]


@hookimpl
def wiki_page_types():
    return {"counter": validate_counter}


@hookimpl
def wiki_render_widget(kind, data, page, principal, session):
    if kind != "counter":
        return None
    who = "anonym" if not principal.logged_in else "angemeldet"
    label = escape(str(data.get("label", "Zähler"))) if isinstance(data, dict) else "Zähler"
    # The request's session: a real widget reads its live state (votes, RSVPs) from it.
    pages = session.scalar(select(func.count()).select_from(PageRow))
    return f'<div class="counter" data-who="{who}" data-pages="{pages}">{label}: 0</div>'


@hookimpl
def wiki_page_changed(page, old_path, commit, session):
    if old_path:
        PROJECTION.pop(old_path, None)
    PROJECTION[page.path] = page.title


@hookimpl
def wiki_page_deleted(path, commit, session):
    PROJECTION.pop(path, None)


@hookimpl
def wiki_reindex(session):
    PROJECTION.clear()


@hookimpl
def wiki_blueprints():
    bp = Blueprint("sample", __name__, url_prefix="/-/sample")

    @bp.get("/titles")
    def titles():
        return jsonify(sorted(PROJECTION.items()))

    return [bp]


def shout_pattern():
    return re.compile(SHOUT_RE)


@hookimpl
def wiki_translation_dirs():
    return list(TRANSLATION_DIRS)
