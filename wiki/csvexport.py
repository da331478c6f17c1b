"""CSV exports as German spreadsheet programs expect them (no Flask).

UTF-8 with a byte order mark, ``;`` as separator, CRLF line ends, and every cell that starts
like a formula (``=``, ``+``, ``-``, ``@``, also after a tab or carriage return) prefixed with
``'`` so the spreadsheet shows it as text instead of running it (formula injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell as text; one that starts like a formula is prefixed so it stays text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    """The whole file: BOM, header and rows, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return "\ufeff" + out.getvalue()
