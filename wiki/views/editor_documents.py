"""Documents sent with the page editor's form: names, links, and the links the text lacks.

The editor form is ``multipart/form-data`` with ``<input type="file" name="documents"
multiple>``; on save the documents are committed with the page in one commit
(``Content.save(documents=…)``). Without JavaScript the server appends a link for every document
the text does not mention yet; with JavaScript the editor script inserts the links at the cursor
as soon as a file is picked, dropped or pasted, so nothing is appended twice.
"""

from __future__ import annotations

from flask import request

from wiki import pages as P
from wiki.views.files import raster_type


def sent_documents() -> dict[str, bytes]:
    """``{normalised name: data}`` of the files sent in the ``documents`` field.

    Raises :class:`wiki.pages.BadName` if a name cannot be normalised into a valid one.
    """
    documents: dict[str, bytes] = {}
    for upload in request.files.getlist("documents"):
        if upload and upload.filename:
            documents[P.normalize_filename(upload.filename)] = upload.read()
    return documents


def document_link(name: str, data: bytes) -> str:
    """The markdown that shows ``name``: an image for raster images, else a download link."""
    prefix = "!" if raster_type(data) else ""
    return f"{prefix}[{name}]({P.FILES_DIR}/{name})"


def with_links(text: str, documents: dict[str, bytes]) -> str:
    """``text`` with a link appended for each document it does not mention yet."""
    missing = [
        document_link(name, data)
        for name, data in documents.items()
        if f"{P.FILES_DIR}/{name}" not in text
    ]
    if not missing:
        return text
    return text.rstrip("\n") + "\n\n" + "\n".join(missing) + "\n"
