"""Demo events for ``verbandswiki init --demo``: a public page of the Landesverband with a weekly
open meeting and an all-day congress, a members-only fortnightly Stammtisch of the Ortsverband
with registration, and a monthly online board meeting of a Kreisverband.

Runs after the spaces demo (``trylast``); the dates are relative to the day of the demo, so the
calendar is never empty. Without the demo chapters the pages are filed under ``termine/``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from wiki.api import PageRow, commit_demo


def next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def first_monday(day: date) -> date:
    """The first Monday of the month after ``day``'s."""
    month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return next_weekday(month, 0)


def pages(today: date) -> dict[str, tuple[str, str, str]]:
    """space → (page name, visibility, text) of the demo event pages."""
    wednesday = next_weekday(today, 2)
    tuesday = next_weekday(today, 1)
    congress = next_weekday(today + timedelta(days=40), 5)
    return {
        "thueringen": (
            "termine",
            "public",
            "# Termine des Landesverbands\n\n"
            "Alle sind willkommen – auch ohne Mitgliedschaft.\n\n"
            "```termin\n"
            "id: offenes-treffen-th\n"
            "titel: Offenes Treffen\n"
            f"beginn: {wednesday:%Y-%m-%d} 19:00\n"
            "ende: 21:00\n"
            "ort: Landesgeschäftsstelle, Erfurt\n"
            "wiederholung: wöchentlich\n"
            f"ausnahmen: [{wednesday + timedelta(days=21):%Y-%m-%d}]\n"
            "beschreibung: Wir planen Aktionen und lernen uns kennen.\n"
            "```\n\n"
            "```termin\n"
            "id: landeskongress-th\n"
            "titel: Landeskongress\n"
            f"beginn: {congress:%Y-%m-%d}\n"
            f"ende: {congress + timedelta(days=1):%Y-%m-%d}\n"
            "ganztägig: ja\n"
            "ort: Jena, Volkshaus\n"
            "anmeldung: ja\n"
            "```\n",
        ),
        "thueringen/erfurt/nord": (
            "stammtisch",
            "members",
            "# Stammtisch Erfurt-Nord\n\nNur für Mitglieder.\n\n"
            "```termin\n"
            "id: stammtisch-erfurt-nord\n"
            "titel: Stammtisch Erfurt-Nord\n"
            f"beginn: {tuesday:%Y-%m-%d} 19:30\n"
            "ende: 22:00\n"
            "ort: Café am Moskauer Platz\n"
            "wiederholung: alle-2-wochen\n"
            "anmeldung:\n  max: 12\n"
            "```\n",
        ),
        "thueringen/jena": (
            "vorstandssitzung",
            "members",
            "# Vorstandssitzung\n\n"
            "```termin\n"
            "id: vorstand-jena\n"
            "titel: Vorstandssitzung Kreisverband Jena\n"
            f"beginn: {first_monday(today):%Y-%m-%d} 18:00\n"
            "ende: 19:30\n"
            "online: ja\n"
            "wiederholung: monatlich\n"
            "anzahl: 12\n"
            "beschreibung: Mitglieder sind als Gäste willkommen.\n"
            "```\n",
        ),
    }


def create(state, say) -> None:
    """Commit the demo event pages in one commit (once)."""
    with state.sessions() as session:
        spaces = set(session.scalars(select(PageRow.path).where(PageRow.type == "space")))
    files = {}
    for space, (name, visibility, body) in pages(date.today()).items():
        path = f"{space}/{name}" if space in spaces else f"termine/{name}"
        title = body.splitlines()[0].lstrip("# ")
        text = f"---\ntitle: {title}\nvisibility: {visibility}\n---\n{body}"
        files[f"{path}.md"] = text.encode("utf-8")
    if not commit_demo(state, files, "Demo-Termine angelegt"):
        return
    say("Demo-Termine: unter /-/calendar")
