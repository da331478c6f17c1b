"""QR codes of polls, decoded with zxing-cpp: the projector code carries the vote URL, a printed
slip's code the slip's landing URL with its token in the fragment, and that token votes once."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from conftest import PAGES, Spaces, make_spaces_app, page_text
from sqlalchemy import func, select

from plugins.polls.models import PollToken, Vote
from wiki.qr import svg_matrix

BASE = "http://wiki.test"
PAGE = "lv/kv-a/oeffentlich"
BLOCKS = """
```poll
id: projektor
titel: Frage an den Saal
typ: ja-nein
wer: alle
ergebnis: immer
```

```poll
id: zettelwahl
titel: Wahl mit Stimmzetteln
typ: einfach
optionen:
  anna: Anna
  bert: Bert
wer: token
ergebnis: immer
```
"""
SVG_RE = re.compile(r"<svg\b.*?</svg>", re.S)
SCALE = 4


@pytest.fixture(scope="module")
def spaces(tmp_path_factory):
    app = make_spaces_app(
        tmp_path_factory.mktemp("polls-qr"),
        WIKI_PLUGINS=["plugins.spaces", "plugins.polls"],
        WIKI_BASE_URL=BASE,
    )
    helper = Spaces(app)
    visibility, title, body = PAGES[PAGE]
    helper.commit({f"{PAGE}.md": page_text(title, body + "\n" + BLOCKS, visibility)})
    yield helper
    helper.state.search.wait_idle()
    helper.state.search.close()
    helper.state.store.close()
    helper.state.engine.dispose()


def decode(svg: str) -> list[str]:
    """The texts zxing-cpp reads from a QR code drawn as SVG (rasterised, 8-bit grayscale)."""
    matrix = svg_matrix(svg)
    size = len(matrix) * SCALE
    pixels = bytearray()
    for row in matrix:
        line = b"".join((b"\x00" if dark else b"\xff") * SCALE for dark in row)
        pixels += line * SCALE
    found = zxingcpp.read_barcodes(memoryview(bytes(pixels)).cast("B", (size, size)))
    return [code.text for code in found]


def test_the_projector_qr_code_carries_the_vote_url(spaces):
    response = spaces.login("anon").get("/-/polls/projektor/qr")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    svgs = SVG_RE.findall(html)
    assert len(svgs) == 1
    url = f"{BASE}/-/polls/projektor"
    assert decode(svgs[0]) == [url]
    # the title and the URL as text, for those who type it
    assert "Frage an den Saal" in html and f">{url}</code>" in html
    # the SVG scales to the screen: no fixed size, a viewBox
    assert "viewBox=" in svgs[0] and "width=" not in svgs[0].split(">", 1)[0]


def test_a_slip_qr_code_carries_its_token_which_votes_once(spaces):
    organiser = spaces.login("member_a")  # may edit the public page of lv/kv-a
    response = organiser.form("/-/polls/zettelwahl/slips", {"anzahl": "2", "je_seite": "10"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    svgs = SVG_RE.findall(html)
    assert len(svgs) == 2
    urls = [decode(svg) for svg in svgs]
    assert all(len(found) == 1 for found in urls), urls
    url = urls[0][0]
    prefix = f"{BASE}/-/polls/zettelwahl/token#t="
    assert url.startswith(prefix)
    token = url.removeprefix(prefix)
    # the printed code is the same token, readable for typing
    assert f"<code>{token}</code>" in html
    assert urls[1][0] != url
    with spaces.state.sessions() as session:
        rows = session.scalars(select(PollToken).where(PollToken.poll_id == "zettelwahl")).all()
        assert len(rows) == 2 and all(token not in row.hash for row in rows)

    voter = spaces.login("anon")
    landing = voter.get(url.removeprefix(BASE).split("#", 1)[0])
    assert landing.status_code == 200
    first = voter.form("/-/polls/zettelwahl/vote", {"token": token, "choice": "anna"})
    assert first.status_code == 302, first.get_data(as_text=True)[:300]
    again = spaces.login("anon").form(
        "/-/polls/zettelwahl/vote", {"token": token, "choice": "bert"}
    )
    assert again.status_code == 409
    assert "schon benutzt" in again.get_data(as_text=True)
    with spaces.state.sessions() as session:
        votes = session.scalars(select(Vote.answer).where(Vote.poll_id == "zettelwahl")).all()
        assert votes == ['{"choice":"anna"}']
        used = session.scalar(
            select(func.count()).where(PollToken.poll_id == "zettelwahl", PollToken.used)
        )
        assert used == 1
