"""Search: German analysis, query language, permissions, index maintenance, views and API."""

from __future__ import annotations

import multiprocessing
import queue
import shutil
import subprocess
import sys
import time
import types

import pytest
from conftest import head, log_in, make_test_app, save
from whoosh import fields as F
from whoosh import query as Q

from wiki import create_app
from wiki.acl import ANONYMOUS, Principal, ReadFilter
from wiki.db import PageRow
from wiki.hookspecs import hookimpl
from wiki.search import BadQuery
from wiki.search.analysis import fold, stem
from wiki.search.engine import first_members, members, read_postings
from wiki.search.store import IndexBusy
from wiki.storage import Author

AUTHOR = Author("u-test", "test@noreply.invalid")
USER = Principal(user_id=2, public_id="alice")
ADMIN = Principal(user_id=1, public_id="admin", is_admin=True)

PAGES = {
    "beschluesse-2024": "---\ntitle: Beschlüsse 2024\ntags: [beschluss, haushalt]\n---\n"
    "Die Mitgliederversammlung fasst Beschlüsse zur Digitalisierung des Verbands.\n",
    "protokoll-mai": "---\ntitle: Protokoll Mai\ntags: [protokoll]\n---\n"
    "Anwesend waren zwölf Mitgliedern. Der Beschluss zur Satzung wurde vertagt. "
    "Treffpunkt war die Hauptstraße 5.\n",
    "protokoll-juni": "---\ntitle: Protokoll Juni\n---\nDer Kassenbericht liegt vor. "
    "Ein Antrag auf Förderung wurde gestellt. Treffen in der Bahnhofstrasse.\n",
    "arbeitskreis": "---\ntitle: Arbeitskreis Digitales\n---\n"
    "Wir kümmern uns um Förderung und Antrag. Das Mitglied Erika leitet den Kreis.\n",
    "intern/kasse": "---\ntitle: Kassenprüfung intern\nvisibility: internal\n---\n"
    "Geheime Zahlen zum Vermoegen und zur Schwarzkasse.\n",
}


def state_of(app):
    return app.extensions["wiki"]


def commit(app, files: dict, message="Test", trailers=None):
    """Commit files straight into git and sync (``None`` deletes)."""
    state = state_of(app)
    changes = {
        (k if k.endswith(".md") or "/_files/" in k else k + ".md"): (
            v.encode() if isinstance(v, str) else v
        )
        for k, v in files.items()
    }
    state.store.commit(
        changes, base=state.store.head(), author=AUTHOR, message=message, trailers=trailers
    )
    state.syncer.sync()


def find(app, q, principal=ANONYMOUS, **kwargs):
    return state_of(app).search.search(principal, q, **kwargs)


def paths(app, q, principal=ANONYMOUS, **kwargs) -> list[str]:
    return [hit.path for hit in find(app, q, principal, **kwargs).hits]


@pytest.fixture
def blank(app):
    """The test app without its starter pages (their words would be found too)."""
    files = state_of(app).store.files()
    commit(app, {f: None for f in files if f.endswith(".md")}, "leer")
    return app


@pytest.fixture
def wiki(blank):
    commit(blank, PAGES)
    return blank


# -- analysis -----------------------------------------------------------------------------------


def test_folding_and_stemming_meet():
    assert stem("beschlüsse") == stem("beschluesse") == stem("beschluss") == stem("BESCHLUSS")
    assert stem("mitgliedern") == stem("mitglied") == stem("mitglieder")
    assert stem("straße") == stem("strasse") == stem("strassen")
    assert fold("Übersicht") == fold("Uebersicht") == "ubersicht"
    assert fold("neue") == "neue" and fold("Quelle") == "quelle"  # not digraphs
    assert stem("und") is None  # stop word


@pytest.mark.parametrize(
    "query,expected",
    [
        ("Beschlüsse", {"beschluesse-2024", "protokoll-mai"}),
        ("Beschluesse", {"beschluesse-2024", "protokoll-mai"}),
        ("beschluss", {"beschluesse-2024", "protokoll-mai"}),
        # beschluesse-2024 through the compound "Mitgliederversammlung" (ranked last, see
        # tests/test_search_german.py)
        ("Mitglied", {"protokoll-mai", "arbeitskreis", "beschluesse-2024"}),
        ("Mitgliedern", {"protokoll-mai", "arbeitskreis", "beschluesse-2024"}),
        ("Hauptstrasse", {"protokoll-mai"}),
        ("Bahnhofstraße", {"protokoll-juni"}),
        ("FÖRDERUNG", {"protokoll-juni", "arbeitskreis"}),
    ],
)
def test_stemming_and_umlauts(wiki, query, expected):
    assert set(paths(wiki, query)) == expected


# -- query language -----------------------------------------------------------------------------


def test_all_words_must_match(wiki):
    assert paths(wiki, "Antrag Förderung Kassenbericht") == ["protokoll-juni"]


def test_phrases(wiki):
    assert paths(wiki, '"Antrag auf Förderung"') == ["protokoll-juni"]
    assert set(paths(wiki, "Antrag Förderung")) == {"protokoll-juni", "arbeitskreis"}
    assert paths(wiki, '"Förderung Kassenbericht"') == []


def test_exclusion(wiki):
    assert paths(wiki, "Förderung -Kassenbericht") == ["arbeitskreis"]
    assert paths(wiki, 'Förderung -"Antrag auf Förderung"') == ["arbeitskreis"]
    assert "protokoll-mai" not in paths(wiki, "-beschluss")


def test_or(wiki):
    assert set(paths(wiki, "Kassenbericht OR Satzung")) == {"protokoll-juni", "protokoll-mai"}
    assert paths(wiki, "Antrag Kassenbericht OR Satzung") == ["protokoll-juni"]


def test_prefix(wiki):
    assert set(paths(wiki, "Digital*")) == {"beschluesse-2024", "arbeitskreis"}
    assert set(paths(wiki, "protok*")) == {"protokoll-mai", "protokoll-juni"}
    assert set(paths(wiki, "beschlü*")) == {"beschluesse-2024", "protokoll-mai"}


def test_field_filters(wiki):
    commit(wiki, {"gremien/vorstand": "---\ntitle: Vorstand\ntype: page\n---\nDer Vorstand berät."})
    assert paths(wiki, "Protokoll tag:protokoll") == ["protokoll-mai"]
    assert paths(wiki, "tag:Beschluss") == ["beschluesse-2024"]
    assert paths(wiki, "in:gremien") == ["gremien/vorstand"]
    assert paths(wiki, "berät -in:gremien") == []
    assert set(paths(wiki, "typ:page Förderung")) == {"protokoll-juni", "arbeitskreis"}
    assert paths(wiki, "typ:beschluss Förderung") == []
    year = find(wiki, "Förderung").hits[0].updated.year
    assert len(paths(wiki, f"Förderung jahr:{year}")) == 2
    assert len(paths(wiki, f"Förderung jahr:{year - 3}-{year}")) == 2
    assert paths(wiki, f"Förderung jahr:{year - 1}") == []
    assert paths(wiki, "titel:Digitales") == ["arbeitskreis"]
    assert paths(wiki, "titel:Digitalisierung") == []


def test_ranking_puts_a_title_match_above_a_body_match(blank):
    commit(
        blank,
        {
            "im-text": "# Verschiedenes\n\n" + "Die Satzung, die Satzung und die Satzung. " * 5,
            "im-titel": "# Satzung des Vereins\n\nHier steht der Text.",
        },
    )
    assert paths(blank, "Satzung")[:2] == ["im-titel", "im-text"]


def test_results_sorted_by_date(wiki):
    time.sleep(1.1)  # commit times have whole seconds
    commit(wiki, {"protokoll-mai": PAGES["protokoll-mai"] + "\nNachtrag.\n"})
    assert paths(wiki, "Protokoll", sort="date")[0] == "protokoll-mai"
    time.sleep(1.1)
    commit(wiki, {"protokoll-juni": PAGES["protokoll-juni"] + "\nNachtrag.\n"})
    assert paths(wiki, "Protokoll", sort="date")[0] == "protokoll-juni"


def test_suggestion_only_from_readable_pages(wiki):
    result = find(wiki, "Digitalisirung")
    assert result.total == 0 and result.suggestion == "Digitalisierung"
    assert find(wiki, "Digitalisierung").suggestion is None
    # "Vermoegen" occurs only on an internal page: no hint for anonymous readers.
    assert find(wiki, "Vermögn").suggestion is None
    assert find(wiki, "Vermögn", USER).suggestion == "Vermoegen"


@pytest.mark.parametrize(
    "query,code",
    [
        ('"offen', "unclosed_quote"),
        ("OR Satzung", "or_position"),
        ("Satzung OR", "or_position"),
        ("a OR OR b", "or_position"),
        ("-a OR b", "or_negated"),
        ("Satzung -", "lone_minus"),
        ("typ:", "empty_filter"),
        ("foo:bar", "unknown_field"),
        ("a*", "short_prefix"),
        ("*", "short_prefix"),
        ("be*chluss", "inner_star"),
        ("jahr:vorgestern", "bad_year"),
        ("", "nothing"),
        ("x" * 600, "too_long"),
    ],
)
def test_malformed_queries_are_explained(wiki, query, code):
    with pytest.raises(BadQuery) as info:
        find(wiki, query)
    assert info.value.code == code
    client = wiki.test_client()
    response = client.get("/-/search", query_string={"q": query})
    assert response.status_code == (200 if code == "nothing" else 400)
    api = client.get("/-/api/v1/search", query_string={"q": query})
    assert api.status_code == 400 and api.get_json()["code"] == code


def test_stop_words_alone_search_titles(blank):
    commit(blank, {"wir-ueber-uns": "---\ntitle: Wir über uns\n---\nVorstellung."})
    assert paths(blank, "über uns") == ["wir-ueber-uns"]


# -- permissions --------------------------------------------------------------------------------


def test_internal_page_is_invisible_to_anonymous_readers(wiki):
    for q in ("Kassenprüfung", "Schwarzkasse", "Vermögen", "Kasse*", "in:intern", "intern"):
        result = find(wiki, q)
        assert "intern/kasse" not in [h.path for h in result.hits], q
        facet_total = sum(f.count for f in result.facets["typ"])
        assert facet_total == result.total == len(result.hits), q
        assert all("Schwarzkasse" not in str(h.snippet) for h in result.hits)
    assert find(wiki, "Schwarzkasse", USER).total == 1
    client = wiki.test_client()
    html = client.get("/-/search?q=Schwarzkasse").get_data(as_text=True)
    results_part = html.split("<main", 1)[1].split("</form>", 1)[1].split("So suchst du")[0]
    assert "Keine Seite gefunden" in results_part and "Schwarzkasse" not in results_part
    assert client.get("/-/search/titles?q=Kassenpr").get_json() == []
    assert client.get("/-/api/v1/search?q=Schwarzkasse").get_json()["total"] == 0
    user = log_in(wiki, "user")
    assert user.get("/-/search/titles?q=Kassenpr").get_json() == [
        {"path": "intern/kasse", "title": "Kassenprüfung intern"}
    ]
    assert user.get("/-/api/v1/search?q=Schwarzkasse").get_json()["total"] == 1


class MembersPlugin:
    """A stand-in for chapter spaces: pages below ``verein/`` are members-only; alice is a
    member of the space ``verein``."""

    @hookimpl
    def wiki_page_space(self, path, session):
        return ("verein", "members") if path.startswith("verein/") else None

    @hookimpl
    def wiki_read_filter(self, principal):
        if principal.public_id == "alice":
            return ReadFilter(visibilities=frozenset(), spaces={"members": frozenset({"verein"})})
        return None

    @hookimpl
    def wiki_permission(self, principal, action, page):
        if page is not None and page.space == "verein" and page.visibility == "members":
            return principal.public_id == "alice" and action == "read"
        return None


def test_members_only_page_is_invisible_to_others(blank):
    state = state_of(blank)
    state.pm.register(MembersPlugin(), name="members-test")
    commit(
        blank,
        {
            "verein/geheim": "# Mitgliederliste\n\nNur für Mitglieder: Wahlvorschlag Tulpenbaum.",
            "offen": "# Offen\n\nAuch hier steht Tulpenbaum, öffentlich.",
        },
    )
    alice = Principal(user_id=2, public_id="alice", memberships={"verein": "member"})
    bob = Principal(user_id=3, public_id="bob")
    assert set(paths(blank, "Tulpenbaum", alice)) == {"verein/geheim", "offen"}
    for principal in (bob, ANONYMOUS):
        result = find(blank, "Tulpenbaum", principal)
        assert [h.path for h in result.hits] == ["offen"]
        assert result.total == 1
        assert result.facets["in"] == []  # no count for the members-only space
        assert sum(f.count for f in result.facets["jahr"]) == 1
        assert "Wahlvorschlag" not in " ".join(str(h.snippet) for h in result.hits)
        assert state.search.titles(principal, "Mitgliederl") == []
        assert find(blank, "Wahlvorschlg", principal).suggestion is None
    assert find(blank, "Wahlvorschlg", alice).suggestion == "Wahlvorschlag"
    assert state.search.titles(alice, "Mitgliederl") == [
        {"path": "verein/geheim", "title": "Mitgliederliste"}
    ]
    facets = find(blank, "Tulpenbaum", alice).facets["in"]
    assert [(f.value, f.count) for f in facets] == [("verein", 1)]


# -- keeping in step with git -------------------------------------------------------------------


def test_index_follows_edits_renames_and_deletes(blank):
    client = log_in(blank, "user")
    assert save(client, "neu", "# Neue Seite\n\nEin Zaunkönig singt.", base="").status_code == 302
    assert paths(blank, "Zaunkönig") == ["neu"]
    assert save(client, "neu", "# Neue Seite\n\nEine Amsel singt.").status_code == 302
    assert paths(blank, "Zaunkönig") == [] and paths(blank, "Amsel") == ["neu"]
    response = client.form("/-/rename/neu", {"new_path": "umbenannt/vogel"})
    assert response.status_code == 302
    assert paths(blank, "Amsel") == ["umbenannt/vogel"]
    assert paths(blank, "in:umbenannt") == ["umbenannt/vogel"]
    response = client.form("/-/delete/umbenannt/vogel", {"base": head(blank)})
    assert response.status_code == 302
    assert paths(blank, "Amsel") == []
    save(client, "wird-intern", "# Bald intern\n\nKohlmeise.", base="")
    assert paths(blank, "Kohlmeise") == ["wird-intern"]
    save(client, "wird-intern", "---\nvisibility: internal\n---\n# Bald intern\n\nKohlmeise.")
    assert paths(blank, "Kohlmeise") == []
    assert paths(blank, "Kohlmeise", USER) == ["wird-intern"]


def test_index_follows_an_external_push(app, tmp_path):
    state = state_of(app)
    clone = tmp_path / "clone"
    env = {
        "GIT_AUTHOR_NAME": "x",
        "GIT_AUTHOR_EMAIL": "x@x",
        "GIT_COMMITTER_NAME": "x",
        "GIT_COMMITTER_EMAIL": "x@x",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    subprocess.run(["git", "clone", "-q", state.store.repo_path, str(clone)], check=True, env=env)
    (clone / "gepusht.md").write_text("---\ntitle: Von außen\n---\nEin Eisvogel.\n", "utf-8")
    (clone / "spielwiese.md").unlink()
    subprocess.run(["git", "-C", str(clone), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "commit", "-qm", "push"], check=True, env=env)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "main"], check=True, env=env)
    # No request ran the sync: the search itself must catch up before answering.
    assert paths(app, "Eisvogel") == ["gepusht"]
    assert "spielwiese" not in paths(app, "Spielwiese")
    assert state.search.status()["commit"] == state.store.head()


def test_stale_index_never_reveals_a_page_that_became_internal(blank):
    commit(blank, {"aushang": "# Aushang\n\nTreffen am Seerosenteich."})
    assert paths(blank, "Seerosenteich") == ["aushang"]
    state = state_of(blank)
    state.store.commit(
        {"aushang.md": b"---\nvisibility: internal\n---\n# Aushang\n\nTreffen am Seerosenteich."},
        base=state.store.head(),
        author=AUTHOR,
        message="intern",
    )  # committed, not yet synced
    assert paths(blank, "Seerosenteich") == []
    assert state.search.titles(ANONYMOUS, "Aushang") == []


def test_a_failed_index_write_is_caught_up(blank, monkeypatch):
    state = state_of(blank)

    def busy(timeout):
        raise IndexBusy("test")

    monkeypatch.setattr(state.search.store, "locked", busy)
    commit(blank, {"nachzuegler": "# Nachzügler\n\nEin Buntspecht."})
    before = state.search.store.snapshot().commit
    assert before != state.store.head()  # the sync could not write the index
    monkeypatch.undo()
    assert paths(blank, "Buntspecht") == ["nachzuegler"]
    assert state.search.store.snapshot().commit == state.store.head()


def snapshot_results(app, queries):
    out = {}
    for q in queries:
        for principal in (ANONYMOUS, USER):
            result = find(app, q, principal)
            out[(q, principal.public_id)] = (
                [h.path for h in result.hits],
                result.total,
                {k: [(f.value, f.count) for f in v] for k, v in result.facets.items()},
                [str(h.snippet) for h in result.hits],
            )
    return out


def test_rebuilt_index_equals_the_incremental_one(wiki):
    client = log_in(wiki, "user")
    save(client, "protokoll-mai", PAGES["protokoll-mai"] + "\nNachtrag zur Satzung.\n")
    client.form("/-/rename/arbeitskreis", {"new_path": "gremien/arbeitskreis"})
    client.form("/-/delete/protokoll-juni", {"base": head(wiki)})
    save(client, "neu/seite", "# Neu\n\nSatzung und Beschluss, Förderung.", base="")
    queries = ["Satzung", "Beschluss", "Förderung", "Digital*", "in:gremien", "typ:page", "Kasse"]
    incremental = snapshot_results(wiki, queries)
    state = state_of(wiki)
    before = state.search.store.snapshot().folder
    state.syncer.reindex()
    after = state.search.store.snapshot().folder
    assert after != before  # built in a new folder and swapped in
    assert snapshot_results(wiki, queries) == incremental
    shutil.rmtree(state.search.store.root)  # deleted: rebuilt from git on the next query
    assert snapshot_results(wiki, queries) == incremental


def test_corrupt_index_is_rebuilt(wiki):
    state = state_of(wiki)
    # A background update still writing would replace the damaged table of contents.
    state.search.wait_idle()
    folder = state.search.store.snapshot().folder
    for toc in folder.glob("_MAIN_*.toc"):
        toc.write_bytes(b"kaputt")
    assert paths(wiki, "Kassenbericht") == ["protokoll-juni"]
    assert state.search.store.snapshot().folder != folder


def test_segment_files_vanishing_under_a_reader_are_survived(wiki):
    state = state_of(wiki)
    assert paths(wiki, "Kassenbericht") == ["protokoll-juni"]  # this thread has a searcher
    folder = state.search.store.snapshot().folder
    for path in folder.iterdir():
        if path.suffix in (".seg", ".trm", ".pst") or path.name.endswith(".toc"):
            path.unlink()
    assert paths(wiki, "Kassenbericht") == ["protokoll-juni"]


def plugin_module(name):
    module = types.ModuleType(name)

    @hookimpl
    def wiki_search_fields():
        return {"gremium": F.ID(stored=True), "antragsteller": F.TEXT()}

    @hookimpl
    def wiki_search_document(page, session):
        # The session sees the projection of the commit being indexed.
        assert session.get(PageRow, page.path) is not None
        return {
            "gremium": str(page.meta.get("gremium", "")) or None,
            "antragsteller": str(page.meta.get("antragsteller", "")) or None,
            "visibility": "public",  # core fields cannot be overridden
        }

    module.wiki_search_fields = wiki_search_fields
    module.wiki_search_document = wiki_search_document
    return module


def test_plugin_fields_and_fingerprint_rebuild(tmp_path, monkeypatch):
    app = make_test_app(tmp_path)
    commit(
        app,
        {
            "antrag-1": "---\ntitle: Antrag Radweg\ngremium: vorstand\nantragsteller: Ortsgruppe "
            "Nord\n---\nWir beantragen einen Radweg.",
            "antrag-2": "---\ntitle: Antrag Bank\ngremium: jugend\nvisibility: internal\n---\n"
            "Eine Bank im Park.",
        },
    )
    old = state_of(app).search.store.snapshot()
    with pytest.raises(BadQuery):
        find(app, "gremium:vorstand")
    config = dict(app.config)
    state_of(app).store.close()
    monkeypatch.setitem(sys.modules, "search_fields_plugin", plugin_module("search_fields_plugin"))
    app2 = create_app({**config, "WIKI_PLUGINS": ["search_fields_plugin"]})
    try:
        assert state_of(app2).search.fingerprint != old.fingerprint
        assert paths(app2, "gremium:vorstand") == ["antrag-1"]
        assert paths(app2, "Ortsgruppe") == ["antrag-1"]  # plugin text fields are searched
        assert paths(app2, "gremium:jugend") == []  # still internal
        assert paths(app2, "gremium:jugend", USER) == ["antrag-2"]
        assert state_of(app2).search.store.snapshot().folder != old.folder
    finally:
        state_of(app2).store.close()


# -- the engine agrees with whoosh --------------------------------------------------------------


def test_engine_matches_whoosh(wiki):
    service = state_of(wiki).search
    commit(wiki, {"protokoll-juni": PAGES["protokoll-juni"] + "\nNachtrag.\n"})  # a deletion
    queries = [
        Q.Term("body", stem("förderung")),
        Q.And([Q.Term("body", stem("antrag")), Q.Term("body", stem("förderung"))]),
        Q.Or([Q.Term("title", stem("protokoll")), Q.Term("body", stem("mitglied"))]),
        Q.AndNot(Q.Every(), Q.Term("type", "page")),
        Q.Prefix("title_raw", "proto"),
        Q.Phrase("body", [stem("antrag"), stem("förderung")]),
        Q.Phrase("body", [stem("förderung"), stem("antrag")]),
        Q.Phrase("body", [stem("antrag"), stem("förderung"), stem("antrag")]),
        Q.Phrase("body", [stem("mitglied"), stem("erika"), stem("leitet")]),
    ]

    def check(view):
        for q in queries:
            expected = sorted(q.docs(view.searcher))
            assert members(view.match(q)) == expected, q
        assert members(view.match(queries[-1]))  # a three-word phrase that is there

    service._with_view(check)


def test_read_postings_sees_every_block(blank):
    text = "\n".join(f"# Seite {i}\n\nGemeinsames Wort." for i in range(1))
    commit(blank, {f"viele/s{i}": text for i in range(300)})

    def check(view):
        found = 0
        for reader, _ in view.searcher.reader().leaf_readers():
            read = read_postings(reader, "body", stem("gemeinsames").encode())
            if read is not None:
                ids, tfs, _ = read
                assert len(ids) == len(tfs)
                assert list(ids) == sorted(set(ids)) and ids[-1] < reader.doc_count_all()
                # Deleted documents are read too (the engine masks them out).
                found += sum(1 for d in ids if not reader.is_deleted(d))
        assert found == 300

    state_of(blank).search._with_view(check)


def test_packed_numbers_round_trip():
    from wiki.search.store import pack_numbers, unpack_numbers

    for values in ([], [0], [255], [0, 256], [65535], [1, 65536], [7, 2**32 - 1]):
        packed = pack_numbers(values)
        assert list(unpack_numbers(packed)) == values
    assert len(pack_numbers([1, 2, 3])) == 4 and len(pack_numbers([300])) == 3


def test_packed_and_plain_posting_blocks_read_the_same(tmp_path):
    """New indexes are written with packed blocks, older ones stay readable: whoosh's own
    matcher and the engine's reader see the same postings in both."""
    import random

    from whoosh import index

    from wiki.search.store import PackedCodec, WikiCodec

    rng = random.Random(3)
    words = [f"w{i}" for i in range(12)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(700)]
    schema = F.Schema(body=F.TEXT(phrase=True))
    read = {}
    for name, codec in (("plain", WikiCodec()), ("packed", PackedCodec())):
        folder = tmp_path / name
        folder.mkdir()
        ix = index.create_in(str(folder), schema)
        writer = ix.writer(codec=codec)
        for text in texts:
            writer.add_document(body=text)
        writer.commit()
        with ix.searcher() as searcher:
            ((reader, _),) = searcher.reader().leaf_readers()
            assert type(reader.segment().codec()) is type(codec)
            for word in words:
                matcher = reader.postings("body", word)
                whoosh_view = list(_walk(matcher))
                ids, tfs, poses = read_postings(reader, "body", word.encode(), positions=True)
                fmt = schema["body"].format
                mine = [
                    (d, w, fmt.decode_positions(p)) for d, w, p in zip(ids, tfs, poses, strict=True)
                ]
                assert mine == whoosh_view, (name, word)
                read[name, word] = mine
            assert read_postings(reader, "body", b"nothing") is None
    assert all(read["plain", w] == read["packed", w] for w in words)
    expected = {
        w: [(d, float(t.split().count(w))) for d, t in enumerate(texts) if w in t.split()]
        for w in words
    }
    assert all([(d, f) for d, f, _ in read["packed", w]] == expected[w] for w in words)


def _walk(matcher):
    while matcher.is_active():
        yield matcher.id(), matcher.weight(), matcher.value_as("positions")
        matcher.next()


def test_ranking_shortcuts_equal_the_full_scoring(blank):
    """Prefix-only queries rank by groups of leaves, and a phrase of common words scores only
    its documents: both must give what scoring every document gives."""
    import heapq
    import random

    rng = random.Random(5)
    words = ["antrag", "antragsteller", "antwort", "beschluss", "bericht", "besuch", "förderung"]
    for batch in range(3):  # several segments, one with deletions
        pages = {
            f"r/p{batch}-{i}": f"# {rng.choice(words)} {i}\n\n"
            + " ".join(rng.choice(words) for _ in range(rng.randint(3, 30)))
            for i in range(40)
        }
        if batch == 2:
            pages["r/p0-1"] = None
        commit(blank, pages)

    def check(view):
        live = view.gen.live
        masks = [view.prefix_mask("body", p) for p in ("ant", "antr", "be", "bes")]
        masks.append(view.prefix_mask("title_raw", "an"))
        for _ in range(30):
            leaves = [
                ("constant", None, m, rng.choice([1.0, 2.0, 3.5]))
                for m in rng.sample(masks, rng.randint(1, 4))
            ]
            mask = 0
            for _kind, _f, m, _b in leaves:
                mask |= m
            for count in (1, 5, 50):
                full = heapq.nlargest(count, view.scores(mask, leaves).items(), key=lambda i: i[1])
                assert view._top_constant(mask, leaves, count) == full
        for word in words:
            text = stem(word)
            scores = view.term_scores("body", text)
            every = dict(scores.items())
            assert list(scores.ids) == sorted(every) and len(every) == len(scores)
            assert all(d not in view.gen.deleted and live >> d & 1 for d in every)
            assert all(scores.get(d) == s > 0 for d, s in every.items())
            assert scores.get(max(every) + 1) == 0.0 and scores.get(-1, None) is None
            docs = sorted(rng.sample(sorted(every), min(3, len(every))))
            view.gen.scores = type(view.gen.scores)(view.gen.scores.limit)  # not cached
            partial = view.term_scores_of("body", text, docs)
            assert dict(partial.items()) == {d: every[d] for d in docs}
            assert list(view.term_scores_of("body", text, docs + [max(every) + 1]).ids) == docs
        # Scored leaves: top() gives the best of what scoring every document gives, ties by
        # the tiebreak, whichever way each term's scores are added.
        for _ in range(30):
            chosen = rng.sample(words, rng.randint(1, 3))
            leaves = [("term", "body", stem(w), rng.choice([1.0, 2.5])) for w in chosen]
            mask = 0
            for w in chosen:
                mask |= view.term("body", stem(w)).mask
            if rng.random() < 0.5:
                mask &= view.term("body", stem(rng.choice(words))).mask
            full = view.scores(mask, leaves)
            assert sorted(full) == members(mask)
            for count in (1, 5, 50):
                expected = sorted(full.items(), key=lambda i: (-round(i[1], 6), i[0]))[:count]
                assert view.top(mask, leaves, count, lambda d: d) == expected
        for prefix in ("ant", "be", "x"):
            expected = 0
            for reader, _offset in view.searcher.reader().leaf_readers():
                for word in reader.expand_prefix("body", prefix):
                    expected |= view.term("body", word).mask
            assert view.prefix_mask("body", prefix) == expected & live
        # Date order: every live document once, and sorting by rank gives the same pages as
        # walking the order (the two ways SearchService._by_date takes).
        order = list(view.date_order())
        assert sorted(order) == members(live)
        rank = view.date_rank()
        assert all(rank[doc] == place for place, doc in enumerate(order))
        for _ in range(20):
            mask = live & rng.getrandbits(view.gen.size)
            by_rank = sorted(members(mask), key=rank.__getitem__)
            assert first_members(mask, order, 7, 3) == by_rank[3:10]

    state_of(blank).search._with_view(check)


# -- views --------------------------------------------------------------------------------------


def test_search_page(wiki):
    client = log_in(wiki, "user")
    html = client.get("/-/search?q=Beschl%C3%BCsse").get_data(as_text=True)
    assert "2 Treffer" in html
    assert '<a href="/beschluesse-2024"><mark>Beschlüsse</mark> 2024</a>' in html
    assert "<mark>Beschlüsse</mark> zur Digitalisierung" in html
    assert "q=Beschl%C3%BCsse+typ:page" in html  # facet link
    assert "jahr:" in html
    empty = client.get("/-/search").get_data(as_text=True)
    assert "So suchst du" in empty and "search-summary" not in empty
    suggestion = client.get("/-/search?q=Digitalisirung").get_data(as_text=True)
    assert "Meinten Sie" in suggestion and "q=Digitalisierung" in suggestion
    bad = client.get("/-/search?q=%22offen")
    assert bad.status_code == 400 and "Anführungszeichen" in bad.get_data(as_text=True)


def test_search_pagination_and_breadcrumbs(blank):
    commit(blank, {"sammlung": "# Sammlung\n\nÜbersicht."})
    commit(blank, {f"sammlung/eintrag-{i:02d}": f"# Eintrag {i}\n\nLöwenzahn." for i in range(25)})
    client = blank.test_client()
    first = client.get("/-/search?q=L%C3%B6wenzahn").get_data(as_text=True)
    assert "25 Treffer" in first and first.count('class="search-result"') == 20
    assert 'rel="next"' in first and '<a href="/sammlung">Sammlung</a>' in first
    second = client.get("/-/search?q=L%C3%B6wenzahn&page=2").get_data(as_text=True)
    assert second.count('class="search-result"') == 5 and 'start="21"' in second
    api = client.get("/-/api/v1/search?q=L%C3%B6wenzahn&page=2").get_json()
    assert api["total"] == 25 and len(api["results"]) == 5 and not api["has_next"]
    by_date = client.get("/-/api/v1/search?q=L%C3%B6wenzahn&sort=datum").get_json()
    assert by_date["sort"] == "datum"


def test_titles_endpoint(wiki):
    client = wiki.test_client()
    assert client.get("/-/search/titles?q=Proto").get_json() == [
        {"path": "protokoll-mai", "title": "Protokoll Mai"},  # shorter paths first
        {"path": "protokoll-juni", "title": "Protokoll Juni"},
    ]
    assert client.get("/-/search/titles?q=Protokol%20Ma").get_json() == [
        {"path": "protokoll-mai", "title": "Protokoll Mai"}
    ]
    assert client.get("/-/search/titles?q=Protokoll%20Juno").get_json() == [
        {"path": "protokoll-juni", "title": "Protokoll Juni"}
    ]  # one typo in the last word
    assert client.get("/-/search/titles?q=x").get_json() == []
    assert client.get("/-/search/titles").get_json() == []


# -- concurrency --------------------------------------------------------------------------------

SPAWN = multiprocessing.get_context("spawn")


def _saver(instance: str, worker: int, count: int, start, out) -> None:
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from wiki import create_app
    from wiki.content import Content

    try:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "WIKI_INSTANCE": instance,
                "WIKI_MAIL_WORKER": False,
            }
        )
        state = app.extensions["wiki"]
        content = Content(state)
        start.wait(timeout=60)
        for i in range(count):
            path = f"parallel/w{worker}-{i}"
            text = f"# Seite {worker} {i}\n\nKranich{worker} Fassung {i}."
            content.save(ADMIN, path, text, None, f"{worker}/{i}", create=True)
            if i % 2:
                content.save(ADMIN, path, text + " Nachtrag.", state.store.head(), "mehr")
        state.search.wait_idle()  # a served worker lives on; this one is about to exit
        state.store.close()
        out.put((worker, "ok"))
    except Exception as exc:  # noqa: BLE001
        out.put((worker, repr(exc)))


@pytest.mark.slow
def test_concurrent_saves_from_processes_leave_a_consistent_index(app):
    state = state_of(app)
    workers, count = 4, 5
    start = SPAWN.Barrier(workers)
    out = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=_saver, args=(str(state.instance), w, count, start, out))
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    results = []
    deadline = time.monotonic() + 180
    while len(results) < workers and time.monotonic() < deadline:
        try:
            results.append(out.get(timeout=0.5))
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                break
    for proc in procs:
        proc.join(timeout=30)
    assert sorted(results) == [(w, "ok") for w in range(workers)]
    snap = state.search.store.snapshot()
    assert snap.commit == state.store.head()  # every process's writes landed, in order
    for w in range(workers):
        found = paths(state_of(app) and app, f"Kranich{w}")
        assert sorted(found) == sorted(f"parallel/w{w}-{i}" for i in range(count))
        assert len(paths(app, f"Kranich{w} Nachtrag")) == count // 2
    status = state.search.status()
    pages = len([f for f in state.store.files() if f.endswith(".md")])
    assert status["documents"] == pages


def test_cli_reindex_and_maintain(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from wiki.cli import cli

    monkeypatch.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    instance = tmp_path / "inst"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--instance", str(instance)]).exit_code == 0
    pointer = instance / "search" / "CURRENT"
    first = pointer.read_text()
    assert runner.invoke(cli, ["reindex", "--instance", str(instance)]).exit_code == 0
    assert pointer.read_text() != first
    result = runner.invoke(cli, ["maintain", "--instance", str(instance)])
    assert result.exit_code == 0, result.output
    from wiki.cli import make_app

    app = make_app(str(instance))
    assert state_of(app).search.status()["segments"] == 1
    assert paths(app, "Wiki")
