"""The framed notice ``verbandswiki serve`` prints once the server is ready: the address and,
for a demo instance, the accounts with their passwords (first start) or how to get a new one."""

from __future__ import annotations

import os
import sys

from sqlalchemy import select

RULE = "=" * 72
#: How many account names a demo notice lists before it says "…".
MAX_NAMES = 12


def url_of(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard bind is reachable on 127.0.0.1)."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown:  # IPv6
        shown = "[::1]" if shown == "::" else f"[{shown}]"
    return f"http://{shown}:{port}/"


def command(instance: str, *args: str) -> str:
    """How to run ``verbandswiki <args>`` from here (the venv script by its relative path), with
    ``--instance`` when it is not the default."""
    script = sys.argv[0] if sys.argv and os.path.isfile(sys.argv[0]) else ""
    name = "verbandswiki"
    if script and os.path.basename(script) == "verbandswiki":
        relative = os.path.relpath(script)
        name = relative if not relative.startswith("..") else script
        if os.sep not in name:
            name = f".{os.sep}{name}"
    default = os.environ.get("WIKI_INSTANCE", "instance")
    words = [name, *args]
    if instance not in (None, "", default):
        words += ["--instance", instance]
    return " ".join(words)


def account_names(app) -> list[str]:
    """The handles of the instance's accounts, sorted (for a demo instance's notice)."""
    from wiki.db import User

    with app.extensions["wiki"].sessions() as session:
        return list(session.scalars(select(User.handle).order_by(User.handle)))


def notice(url: str, logins: list[str], names: list[str] | None, passwd: str) -> str:
    """The framed block: ``logins`` are the lines ``init --demo`` printed (passwords, first
    start only); ``names`` the accounts of an existing demo instance (None: not a demo);
    ``passwd`` the command that prints a new password."""
    lines = [RULE, f"  Verbandswiki ist bereit: {url}", ""]
    if logins:
        lines += [f"  {line}" for line in logins]
        lines.append("")
    elif names:
        shown = ", ".join(names[:MAX_NAMES]) + (", …" if len(names) > MAX_NAMES else "")
        lines += [
            f"  Zugänge: {shown}",
            "  Die Passwörter wurden beim ersten Start angezeigt.",
            "",
        ]
    if logins or names:
        lines += [
            "  Ein neues Passwort für einen Zugang setzen und anzeigen:",
            f"    {passwd}",
            "",
        ]
    lines += ["  Beenden mit Strg+C.", RULE]
    return "\n".join(lines)
