"""The demo resolutions: enough of them, all valid, every outcome and validity, links that
resolve, and the real resolution „Digitalisierung betrifft uns auch selbst“ with its fields and
an honest note about what is not known."""

from __future__ import annotations

from plugins.resolutions import schema as S
from plugins.resolutions.demo import demo_files
from plugins.resolutions.demo_data import REAL_ID
from plugins.spaces.demo import SPACES
from wiki.pages import Page


def demo_pages() -> dict[str, Page]:
    """The demo resolution pages by id, filed in the demo chapters."""
    pages = {}
    for name, data in demo_files(set(SPACES)).items():
        page = Page.parse(name.removesuffix(".md"), data.decode("utf-8"))
        pages[page.meta["id"]] = page
    return pages


def test_the_demo_has_35_valid_resolutions_with_every_outcome_and_validity():
    pages = demo_pages()
    assert len(pages) >= 35
    for rid, page in pages.items():
        assert page.problems == [] and S.check(page.meta, page.body) == [], rid
    assert len({S.key_of(rid) for rid in pages}) == len(pages)  # no id twice
    assert {p.meta["outcome"] for p in pages.values()} == set(S.OUTCOMES)
    assert {p.meta.get("validity") for p in pages.values()} - {None} == set(S.VALIDITIES)
    assert set(range(2019, 2027)) <= {S.year_of(p.meta) for p in pages.values()}
    chapters = {path.rsplit("/beschluesse/", 1)[0] for path in (p.path for p in pages.values())}
    assert chapters == set(SPACES)  # Landes-, Kreis- and Ortsverband
    assert len({p.meta["body"] for p in pages.values()}) >= 5
    assert len({t for p in pages.values() for t in p.meta.get("topics", [])}) >= 12
    kinds = {kind for p in pages.values() for kind in (p.meta.get("links") or {})}
    assert {"replaces", "implements", "forwarded_to", "forwarded_from", "related"} <= kinds
    keys = {S.key_of(rid) for rid in pages}
    for rid, page in pages.items():
        for targets in (page.meta.get("links") or {}).values():
            assert {S.key_of(t) for t in targets} <= keys, rid  # every link resolves


def test_the_real_resolution_is_there_and_says_what_is_not_known():
    page = demo_pages()[REAL_ID]
    meta = page.meta
    assert meta["title"] == "Digitalisierung betrifft uns auch selbst"
    assert meta["body"] == "Landeskongress"
    assert meta["event"] == "Landeskongress Thüringen 2022"
    assert S.year_of(meta) == 2022
    assert meta["outcome"] == "angenommen" and meta["validity"] == "in_kraft"
    assert meta["initiators"] and meta["topics"]
    assert page.path == "thueringen/beschluesse/2022/lako-2022-digitalisierung"
    text = S.named_sections(page.body)["Beschlusstext"]
    # no invented wording presented as the real one: the page says what is a summary
    assert "Hinweis der Demo" in text and "Zusammenfassung, nicht der Wortlaut" in text
    assert "„digitale Methoden (E-Mail ausgenommen) für Mitgliederbefragungen" in text
    assert "Demo" in meta["outcome_detail"]
    assert "source" not in meta  # no made-up source address
    others = [p for p in demo_pages().values() if REAL_ID in str(p.meta.get("links"))]
    assert len(others) >= 3  # implemented and referred to by later decisions
