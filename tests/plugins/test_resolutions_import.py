"""``verbandswiki resolutions import``: Antragsgrün files and CSV become resolution pages, one
commit each, with a report; re-importing changes nothing; the demo instance has resolutions."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from plugins.resolutions.models import ResolutionRow
from wiki.cli import cli, make_app
from wiki.plugins import make_plugin_manager

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """An instance made by ``verbandswiki init --demo`` (spaces and resolutions enabled)."""
    monkeypatch.setenv("WIKI_PASSWORD_METHOD", "pbkdf2:sha256:1")
    path = tmp_path / "inst"
    result = CliRunner().invoke(cli, ["init", "--demo", "--instance", str(path)])
    assert result.exit_code == 0, result.output
    make_plugin_manager(["plugins.spaces", "plugins.resolutions"]).hook.wiki_cli(cli=cli)

    def run(*args):
        result = CliRunner().invoke(cli, [*args, "--instance", str(path)], catch_exceptions=False)
        return result

    run.path = path
    run.output = result.output
    return run


def rows(path) -> dict[str, ResolutionRow]:
    app = make_app(str(path))
    state = app.extensions["wiki"]
    try:
        with state.sessions() as session:
            found = {r.rid: r for r in session.scalars(select(ResolutionRow))}
            session.expunge_all()
            return found
    finally:
        state.store.close()
        state.engine.dispose()


def commits(path) -> int:
    import subprocess

    out = subprocess.run(
        ["git", "--git-dir", str(path / "content.git"), "rev-list", "--count", "main"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def counts(output: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"^(\w+): (\d+)$", output, re.M)}


def test_the_demo_has_linked_resolutions_of_every_kind(demo):
    from plugins.resolutions.demo_data import REAL_ID
    from plugins.resolutions.schema import OUTCOMES, VALIDITIES

    match = re.search(r"Demo-Beschlüsse: (\d+)", demo.output)
    found = rows(demo.path)
    assert int(match[1]) == len(found) >= 35  # every demo resolution is in the projection
    assert {r.outcome for r in found.values()} == set(OUTCOMES)
    assert {r.validity for r in found.values()} - {None} == set(VALIDITIES)
    years = {r.year for r in found.values()}
    assert set(range(2019, 2027)) <= years
    assert found["EF-KMV-2023-A1"].path == "thueringen/erfurt/beschluesse/2023/ef-kmv-2023-a1"
    real = found[REAL_ID]
    assert (real.title, real.body, real.event, real.year, real.space) == (
        "Digitalisierung betrifft uns auch selbst",
        "Landeskongress",
        "Landeskongress Thüringen 2022",
        2022,
        "thueringen",
    )
    assert demo("check").exit_code == 0


def test_import_antragsgruen_files_is_idempotent(demo, tmp_path):
    folder = tmp_path / "antragsgruen"
    shutil.copytree(FIXTURES / "antragsgruen", folder)
    before = commits(demo.path)
    result = demo("resolutions", "import", str(folder), "--space", "thueringen",
                  "--body", "Landeskonferenz")  # fmt: skip
    assert result.exit_code == 0, result.output
    first = counts(result.output)
    assert first["Angelegt"] > 10
    assert first["Übersprungen"] >= 1  # deleted and internal statuses are reported, not imported
    assert "Gelöscht" in result.output
    assert commits(demo.path) == before + first["Angelegt"]  # one commit per item
    found = rows(demo.path)
    imported = [r for r in found.values() if r.source_system == "antragsgruen"]
    assert len(imported) == first["Angelegt"]
    assert all(r.path.startswith("thueringen/beschluesse/") for r in imported)
    assert {r.outcome for r in imported} >= {"angenommen", "abgelehnt", "ueberwiesen", "offen"}
    assert demo("check").exit_code == 0

    again = demo("resolutions", "import", str(folder), "--space", "thueringen",
                 "--body", "Landeskonferenz")  # fmt: skip
    second = counts(again.output)
    assert second["Angelegt"] == 0 and second["Aktualisiert"] == 0
    assert second["Unverändert"] == first["Angelegt"]
    assert commits(demo.path) == before + first["Angelegt"]


def test_reimport_updates_a_changed_status_and_keeps_local_additions(demo, tmp_path):
    source = FIXTURES / "resolutions.csv"
    table = tmp_path / "archiv.csv"
    table.write_text(source.read_text(encoding="utf-8-sig"), encoding="utf-8")
    result = demo("resolutions", "import", str(table), "--space", "thueringen/jena")
    assert result.exit_code == 0, result.output
    first = counts(result.output)
    assert first["Angelegt"] >= 3 and first["Übersprungen"] >= 1
    # a taken id and unreadable rows are reported with their reason
    assert "„LaKo-2019-A3“ ist nicht verfügbar" in result.output  # the demo has that id
    assert "Titel fehlt" in result.output
    found = rows(demo.path)
    rejected = found["J-LaKo-2019-A4"]  # proposed: code of the Kreisverband, body, year, number
    assert rejected.outcome == "abgelehnt" and rejected.validity is None
    assert rejected.path == "thueringen/jena/beschluesse/2019/j-lako-2019-a4"
    # a protocol note added in the wiki survives the re-import
    app = make_app(str(demo.path))
    state = app.extensions["wiki"]
    from wiki.acl import Principal

    page = state.content.page(rejected.path)
    text = page.text() + "\n## Protokollnotiz\n\nIm Wiki ergänzt.\n"
    state.content.save(Principal(public_id="system", is_admin=True), rejected.path, text,
                       state.store.head(), "Notiz")  # fmt: skip
    state.store.close()
    state.engine.dispose()
    # the result changes at the source
    changed = table.read_text(encoding="utf-8").replace(
        ";KV Jena;abgelehnt;", ";KV Jena;angenommen;"
    )
    table.write_text(changed, encoding="utf-8")
    result = demo("resolutions", "import", str(table), "--space", "thueringen/jena")
    assert counts(result.output)["Aktualisiert"] == 1
    updated = rows(demo.path)["J-LaKo-2019-A4"]
    assert updated.outcome == "angenommen" and updated.validity == "in_kraft"
    app = make_app(str(demo.path))
    assert "Im Wiki ergänzt." in app.extensions["wiki"].content.page(updated.path).body
    app.extensions["wiki"].store.close()
    app.extensions["wiki"].engine.dispose()


def test_dry_run_changes_nothing(demo):
    before = commits(demo.path)
    result = demo("resolutions", "import", str(FIXTURES / "antragsgruen"), "--dry-run",
                  "--body", "Landeskonferenz")  # fmt: skip
    assert result.exit_code == 0
    assert counts(result.output)["Angelegt"] > 10
    assert "Probelauf" in result.output
    assert commits(demo.path) == before


def test_import_refuses_an_unknown_space(demo):
    result = CliRunner().invoke(
        cli,
        ["resolutions", "import", str(FIXTURES / "resolutions.csv"), "--space", "nirgendwo",
         "--instance", str(demo.path)],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "keine Gliederung" in result.output
