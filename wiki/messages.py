"""Translatable user messages of the Flask-free core.

The core (``content``, ``pages``, plugin validators) reports problems as German text, but it
must not import Flask-Babel. It marks each message with :func:`N_`: the call returns a
:class:`Message`, a ``str`` whose value is the German text (so logs, the CLI, JSON and existing
comparisons keep working) and which carries the msgid and its parameters, so that the web layer
can translate it into the reader's language with :func:`wiki.web.translate`. ``N_`` is an
extraction keyword in ``babel.cfg``; write the msgid as a literal with ``%(name)s`` placeholders.
"""

from __future__ import annotations


class Message(str):
    """German text of ``msgid % params``; ``msgid`` and ``params`` for a later translation."""

    msgid: str
    params: dict

    def __new__(cls, msgid: str, **params) -> Message:
        text = msgid % params if params else msgid
        self = super().__new__(cls, text)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):
        return (_rebuild, (self.msgid, self.params))


def _rebuild(msgid: str, params: dict) -> Message:
    return Message(msgid, **params)


def N_(msgid: str, **params) -> Message:
    """Mark ``msgid`` for extraction; translated where it is shown, German everywhere else."""
    return Message(msgid, **params)


def message_of(exc: BaseException) -> str:
    """The user message an exception was raised with (a :class:`Message` when marked)."""
    if exc.args and isinstance(exc.args[0], str):
        return exc.args[0]
    return str(exc)
