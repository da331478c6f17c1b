"""``resolutions import --date/--body/--event``: the Antragsgrün plainhtml export names no date and
no deciding body; the options supply exactly what a file lacks, the report (and the dry run) says
per item what came from them, and a bad ``--date`` is refused before anything changes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from plugins.resolutions.models import ResolutionRow
from wiki.cli import make_app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "antragsgruen"
PLAIN = str(FIXTURES / "motion_a2_plainhtml.html")  # no date, no body, no event
VIEW = str(FIXTURES / "motion_m3_english.html")  # event and submitted, but no decision date
OPTIONS = ("--date", "19.03.2022", "--body", "Landeskonferenz", "--event", "LaKo 2022")


def head(path: Path) -> str:
    out = subprocess.run(
        ["git", "--git-dir", str(path / "content.git"), "rev-parse", "main"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def rows(path: Path) -> dict[str, ResolutionRow]:
    app = make_app(str(path))
    state = app.extensions["wiki"]
    try:
        with state.sessions() as session:
            found = {r.source_id: r for r in session.scalars(select(ResolutionRow))}
            session.expunge_all()
            return found
    finally:
        state.store.close()
        state.engine.dispose()


def counts(output: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"^(\w+): (\d+)$", output, re.M)}


def created_line(output: str, label: str) -> str:
    block = output.split("Aktualisiert:")[0]
    return next(line for line in block.splitlines() if line.strip().startswith(label))


def test_plainhtml_is_skipped_without_options_and_the_report_names_them(fresh_instance):
    before = head(fresh_instance.path)
    result = fresh_instance("resolutions", "import", PLAIN)
    assert result.exit_code == 0, result.output
    assert counts(result.output)["Angelegt"] == 0
    assert "Bitte „decided“ (Beschlussdatum)" in result.output
    assert "bitte mit --date und --body angeben" in result.output
    assert head(fresh_instance.path) == before and rows(fresh_instance.path) == {}


def test_plainhtml_is_imported_with_date_body_and_event(fresh_instance):
    before = head(fresh_instance.path)
    result = fresh_instance("resolutions", "import", PLAIN, *OPTIONS)
    assert result.exit_code == 0, result.output
    assert counts(result.output)["Angelegt"] == 1
    line = created_line(result.output, "A2 Mehr Mitbestimmung")
    assert line.endswith(
        "(aus den Optionen: --date → decided: 2022-03-19; --body → body: Landeskonferenz; "
        "--event → event: LaKo 2022)"
    )
    found = rows(fresh_instance.path)
    # the event from --event is part of the source id, as if the file had named it
    row = found["LaKo 2022/A2"]
    assert (row.decided.isoformat(), row.body, row.event, row.year) == (
        "2022-03-19",
        "Landeskonferenz",
        "LaKo 2022",
        2022,
    )
    assert row.title == "Mehr Mitbestimmung an Schulen" and row.outcome == "offen"
    assert head(fresh_instance.path) != before
    assert fresh_instance("check").exit_code == 0

    again = fresh_instance("resolutions", "import", PLAIN, *OPTIONS)
    assert counts(again.output)["Unverändert"] == 1 and counts(again.output)["Angelegt"] == 0


def test_options_fill_only_what_the_file_lacks(fresh_instance):
    result = fresh_instance("resolutions", "import", VIEW, *OPTIONS)
    assert result.exit_code == 0, result.output
    line = created_line(result.output, "M3 Free public transport")
    assert line.endswith("(aus den Optionen: --date → decided: 2022-03-19)")
    row = rows(fresh_instance.path)["315"]
    assert row.event == "Youth Assembly 2022"  # the file's event, not --event
    assert row.body == "Youth Assembly"  # from the file's event, not --body
    assert row.decided.isoformat() == "2022-03-19"


def test_dry_run_shows_per_item_what_comes_from_the_options(fresh_instance):
    before = head(fresh_instance.path)
    result = fresh_instance("resolutions", "import", PLAIN, VIEW, "--dry-run", *OPTIONS)
    assert result.exit_code == 0, result.output
    assert counts(result.output)["Angelegt"] == 2
    assert created_line(result.output, "A2 Mehr").endswith(
        "(aus den Optionen: --date → decided: 2022-03-19; --body → body: Landeskonferenz; "
        "--event → event: LaKo 2022)"
    )
    assert created_line(result.output, "M3 Free").endswith(
        "(aus den Optionen: --date → decided: 2022-03-19)"
    )
    assert "Probelauf: nichts gespeichert." in result.output
    assert head(fresh_instance.path) == before and rows(fresh_instance.path) == {}

    # an item that takes nothing from the options says so in a dry run
    only_body = fresh_instance("resolutions", "import", VIEW, "--dry-run", "--body", "X")
    assert created_line(only_body.output, "M3 Free").endswith("(nichts aus den Optionen)")
    # and the dry run reports the items the real run would refuse, with the reason
    bare = fresh_instance("resolutions", "import", PLAIN, "--dry-run", "--body", "X")
    assert counts(bare.output)["Angelegt"] == 0 and counts(bare.output)["Übersprungen"] == 1
    assert "bitte mit --date angeben" in bare.output


@pytest.mark.parametrize("value", ["31.02.2022", "gestern", "2022/03/19", "19.03.22", "2022-3-1x"])
def test_a_bad_date_is_refused_and_changes_nothing(fresh_instance, value):
    before = head(fresh_instance.path)
    result = fresh_instance("resolutions", "import", PLAIN, "--date", value, "--body", "LaKo")
    assert result.exit_code == 2
    assert f"--date: „{value}“ ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)." in (
        result.output
    )
    assert "Traceback" not in result.output
    assert head(fresh_instance.path) == before and rows(fresh_instance.path) == {}


def test_iso_and_german_dates_are_the_same(fresh_instance):
    german = fresh_instance("resolutions", "import", PLAIN, "--dry-run", "--date", "1.3.2022",
                          "--body", "LaKo")  # fmt: skip
    iso = fresh_instance("resolutions", "import", PLAIN, "--dry-run", "--date", "2022-03-01",
                       "--body", "LaKo")  # fmt: skip
    assert "--date → decided: 2022-03-01" in german.output
    assert created_line(german.output, "A2") == created_line(iso.output, "A2")
