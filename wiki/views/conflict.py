"""The edit conflict page (HTTP 409): both versions side by side and a merge to edit.

A save that :func:`wiki.merge.merge3` cannot merge shows the user's version ("Meine Fassung")
next to the current one ("Die andere Fassung") with the differing stretches highlighted, and an
editable merge in which every conflicting stretch holds the user's own lines (the whole text is
always a valid page, and the user's words stay). One form posts back to the editor with three
buttons (``resolve`` = ``merge``, ``mine`` or ``theirs``), the user's text in a hidden field and
the conflict's HEAD as the new base; :func:`resolved_text` picks the text by the button.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template, request

from wiki import pages as P
from wiki.auth import current_principal
from wiki.db import get_db
from wiki.merge import CONFLICT, SAME, merge3
from wiki.storage import Conflict, ConflictItem
from wiki.views.common import wiki

RESOLUTIONS = ("merge", "mine", "theirs")


@dataclass(frozen=True)
class Segment:
    """A stretch of one version: plain, a clean difference, or conflict number ``number``."""

    text: str
    kind: str  # "same", "change" or "conflict"
    number: int = 0


def page_item(conflict: Conflict, path: str) -> ConflictItem | None:
    """The conflict item of the page file; None if only documents saved with it clash."""
    filename = P.page_file(path)
    return next((item for item in conflict.items if item.path == filename), None)


def _decode(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


def compare(base: str, mine: str, theirs: str) -> tuple[list[Segment], list[Segment], str, int]:
    """(my segments, their segments, merge proposal, number of conflicts)."""
    result = merge3(base, mine, theirs)
    left: list[Segment] = []
    right: list[Segment] = []
    number = 0
    for chunk in result.chunks:
        if chunk.kind == CONFLICT:
            number += 1
            kind = "conflict"
        else:
            kind = "change" if chunk.differs else SAME
        left.append(Segment("".join(chunk.ours), kind, number if kind == "conflict" else 0))
        right.append(Segment("".join(chunk.theirs), kind, number if kind == "conflict" else 0))
    return left, right, result.text("ours"), number


def conflict_page(conflict: Conflict, path: str, text: str, message: str):
    """The 409 page for ``conflict`` on page ``path``; ``text`` is the user's unsaved text."""
    store = wiki().store
    item = page_item(conflict, path)
    if item is None:
        # The text itself merged; show the current page as both the base and the other side.
        current = store.read(P.page_file(path), conflict.head) if conflict.head else None
        item = ConflictItem(P.page_file(path), current, None, current, None)
    # The other version is the page at the conflict's HEAD; show it only if the reader may read
    # it there (the page may have been narrowed since the editor was opened).
    readable = bool(conflict.head) and wiki().revisions.base_readable(
        get_db(), current_principal(), path, conflict.head
    )
    mine = text.replace("\r\n", "\n")
    theirs = _decode(item.theirs) if readable else None
    revision = None
    if readable and conflict.head:
        revision = store.last_revision(P.page_file(path), conflict.head)
    if theirs is not None:
        base = _decode(item.base) or ""
        left, right, merged, conflicts = compare(base, mine, theirs)
    else:
        left, right, merged, conflicts = [Segment(mine, SAME)], [], mine, 0
    return render_template(
        "conflict.html",
        path=path,
        text=text,
        merged=merged,
        mine_segments=left,
        theirs_segments=right,
        conflicts=conflicts,
        readable=readable,
        deleted=readable and item.theirs is None,
        revision=revision,
        base=conflict.head or "",
        message=message,
    ), 409


def resolved_text() -> str | None:
    """The text a conflict page's form asks to save, or None for "keep the other version"."""
    choice = request.form.get("resolve")
    if choice == "mine":
        if "mine" not in request.form:
            abort(400)  # never save an empty page for a form that lost the user's text
        return request.form["mine"]
    if choice == "theirs":
        return None
    return request.form.get("text", "")
