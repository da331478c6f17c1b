"""German search: umlauts folded once, Förderung ≠ Forderung, irregular and feminine forms,
compound parts (see wiki/search/analysis.py and wiki/search/compounds.py)."""

from __future__ import annotations

import pytest
from test_search import ADMIN, commit, find, paths, state_of

from wiki.search.analysis import compound_parts, fold, marked, stem
from wiki.search.compounds import split
from wiki.search.schema import fingerprint


def test_umlauts_are_folded_once():
    assert fold("Europäer") == fold("Europaeer") == fold("EUROPÄER") == "europaer"
    assert fold("Bäer") == "baer"  # was "bar": ä folded, then "ae" again
    assert stem("Europäer") == stem("Europaeer") == stem("Europäerinnen")
    assert marked("Foerderung") == marked("Förderung") == "förderung"
    assert len(marked("Straße")) == len(fold("Straße"))
    assert fold("neue") == "neue" and fold("Quelle") == "quelle"  # still not digraphs


def test_umlaut_stems_kept_apart():
    assert stem("Förderung") == stem("Foerderung") == stem("Förderungen")
    assert stem("Forderung") == stem("Forderungen")
    assert stem("Förderung") != stem("Forderung")
    assert stem("Rat") == stem("Räte") == stem("Rates")
    assert stem("Rate") == stem("Raten") != stem("Rat")
    assert stem("Wähler") == stem("Waehler") == stem("Wählerinnen") != stem("Wahl")
    assert stem("Lösung") == stem("Loesung") != stem("Losung")


@pytest.mark.parametrize(
    "forms",
    [
        ("Konto", "Konten", "Kontos"),
        ("Thema", "Themen"),
        ("Gremium", "Gremien"),
        ("Museum", "Museen"),
        ("Büro", "Büros", "Buero"),
        ("Kassenprüfer", "Kassenprüferin", "Kassenprüferinnen", "Kassenpruefern"),
        ("Teilnehmer", "Teilnehmerin", "Teilnehmerinnen"),
        ("Referent", "Referentin", "Referentinnen", "Referenten"),
        ("Kandidat", "Kandidatin", "Kandidaten"),
        ("Wahl", "Wahlen", "wählen", "gewählt", "gewaehlt"),
        ("Moderator", "Moderatorin", "Moderatorinnen", "Moderatoren"),
        ("Forum", "Foren", "Forums"),
        ("Gymnasium", "Gymnasien"),
        ("Medium", "Medien"),
        ("Album", "Alben"),
    ],
)
def test_irregular_and_feminine_forms_meet(forms):
    assert len({stem(f) for f in forms}) == 1, {f: stem(f) for f in forms}


def test_words_ending_in_in_are_not_feminine():
    assert stem("Termin") != stem("Term")
    assert stem("Berlin") == "berlin"


def test_latin_rule_leaves_other_um_words_alone():
    assert stem("Eigentum") == stem("Eigentums") == "eigentum"
    assert stem("Baum") == stem("Bäume") == "baum"
    assert stem("Kostüm") == stem("Kostüme") == "kostum"


def test_compounds_split_into_known_parts():
    assert split(fold("Mitgliederversammlung")) == ("mitglied", "versammlung")
    assert split(fold("Satzungsänderung")) == ("satzung", "anderung")
    assert split(fold("Ortsverbände")) == ("ort", "verbande")
    assert split(fold("Landesdelegiertenversammlung")) == ("land", "delegierte", "versammlung")
    assert split(fold("Kassenprüferinnen")) == ("kasse", "prufer")
    assert split(fold("Verbraucher")) == ()  # no nonsense splits
    assert split(fold("Versammlung")) == ()  # a part alone is no compound
    assert compound_parts("Die Klimaschutz-Gruppe") == [stem("klima"), stem("schutz")]


PAGES = {
    "mv": "---\ntitle: Einladung\n---\nZur Mitgliederversammlung laden wir ein.\n",
    "versammlung": "---\ntitle: Notiz\n---\nDie Versammlung beginnt pünktlich.\n",
    "foerderung": "---\ntitle: Zuschuss\n---\nWir beantragen eine Förderung.\n",
    "forderung": "---\ntitle: Offen\n---\nDie Forderung ist noch offen.\n",
    "europa": "---\ntitle: Gäste\n---\nUnsere Gäste sind Europaeer.\n",
    "konten": "---\ntitle: Finanzen\n---\nDie Konten sind ausgeglichen.\n",
    "pruefer": "---\ntitle: Bericht\n---\nDie Kassenprüferinnen berichten.\n",
}


@pytest.fixture
def german(blank):
    commit(blank, PAGES)
    return blank


@pytest.fixture
def blank(app):
    files = state_of(app).store.files()
    commit(app, {f: None for f in files if f.endswith(".md")}, "leer")
    return app


def test_part_finds_compound_ranked_below_exact_hit(german):
    assert paths(german, "Versammlung", ADMIN) == ["versammlung", "mv"]
    assert paths(german, "Mitgliederversammlung", ADMIN) == ["mv"]  # no reverse split
    assert paths(german, '"Versammlung beginnt"', ADMIN) == ["versammlung"]  # phrases exact
    assert paths(german, "titel:Versammlung", ADMIN) == []  # titles: no parts


def test_foerderung_and_forderung_apart(german):
    assert paths(german, "Förderung", ADMIN) == ["foerderung"]
    assert paths(german, "Foerderung", ADMIN) == ["foerderung"]
    assert paths(german, "Forderung", ADMIN) == ["forderung"]


def test_search_finds_irregular_feminine_and_folded_forms(german):
    assert paths(german, "Europäer", ADMIN) == ["europa"]
    assert paths(german, "Konto", ADMIN) == ["konten"]
    assert paths(german, "Kassenprüfer", ADMIN) == ["pruefer"]
    assert paths(german, "Prüferin", ADMIN) == ["pruefer"]  # part of the compound
    assert find(german, "Kasse", ADMIN).total == 1


def test_analysis_change_rebuilds_index(monkeypatch):
    """The analysis version is part of the fingerprint, so old indexes (folded twice, without
    parts) are rebuilt."""
    from wiki.search import schema

    before = fingerprint({}, [])
    monkeypatch.setattr(schema, "ANALYSIS_VERSION", "de-fold-1")
    assert fingerprint({}, []) != before
