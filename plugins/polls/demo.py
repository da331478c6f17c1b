"""Demo polls for ``verbandswiki init --demo``: a public yes/no poll, a date poll and a form on a
public page of the Landesverband, a ranked election (Schulze) for the members of the Kreisverband
Erfurt and a secret ballot on printed slips at its members' meeting, with a few votes each so
that results show.

Runs after the spaces demo (``trylast``), so the polls land in the demo chapters and the demo
accounts vote; without the spaces plugin the pages are at the top level and slips vote alone.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from plugins.polls import access, tokens, votes
from plugins.polls.models import PollDef
from wiki.api import User, commit_demo, content, principal_for

LV = "thueringen"
KV = "thueringen/erfurt"


def pages(today: date, in_spaces: bool) -> dict[str, str]:
    """path → page text of the demo pages (dates of the date poll from ``today`` on)."""
    lv = f"{LV}/" if in_spaces else ""
    kv = f"{KV}/" if in_spaces else ""
    fridays = [today + timedelta(days=(4 - today.weekday()) % 7 + 7 * n + 14) for n in range(3)]
    slots = "\n".join(
        f"  fr{n + 1}: {day.isoformat()} 18:00 - 22:00" for n, day in enumerate(fridays)
    )
    return {
        f"{lv}umfragen": f"""---
title: Umfragen im Landesverband
visibility: public
---
Hier stimmen alle mit ab: angemeldet, oder mit einem Stimmzettel-Code von unserem Stand.

```poll
id: demo-sommerfest-draussen
titel: Sommerfest unter freiem Himmel?
frage: Soll unser Sommerfest dieses Jahr draußen stattfinden?
typ: ja-nein
wer: alle
ergebnis: immer
```

## Wann feiern wir?

```poll
id: demo-sommerfest-termin
titel: Termin für das Sommerfest
typ: termin
optionen:
{slots}
wer: angemeldet
ergebnis: immer
```

## Deine Meinung

```form
id: demo-rueckmeldung
titel: Rückmeldung zum Landeskongress
wer: angemeldet
geheim: ja
fragen:
  - key: zufrieden
    frage: Wie zufrieden warst du mit dem Landeskongress?
    typ: skala
    min_text: gar nicht
    max_text: sehr
    pflicht: ja
  - key: wunsch
    frage: Was sollen wir beim nächsten Mal anders machen?
    typ: langtext
```
""",
        f"{kv}sprecherinnen-wahl": """---
title: Wahl der Sprecher*innen
visibility: members
---
Die Mitglieder des Kreisverbands wählen ihre Sprecher*innen. Ordne die Kandidierenden nach
deiner Vorliebe; wen du nicht einordnest, steht gleichauf hinter allen anderen.

```poll
id: demo-sprecherinnen-wahl
titel: Sprecher*in des Kreisverbands
typ: rangfolge
methode: schulze
optionen:
  alex: Alex Bauer
  deniz: Deniz Yılmaz
  kim: Kim Schulz
  robin: Robin Weber
wer: mitglieder
ergebnis: nach-abgabe
```
""",
        f"{kv}mitgliederversammlung": """---
title: Mitgliederversammlung im Herbst
visibility: members
---
Auf der Versammlung stimmen wir über Antrag A1 geheim ab, mit gedruckten Stimmzetteln: jede
stimmberechtigte Person bekommt einen Zettel mit QR-Code und stimmt damit einmal ab.

```poll
id: demo-antrag-a1
titel: Antrag A1 – Mehr Geld für die Ortsverbände
typ: ja-nein
wer: token
geheim: ja
ergebnis: nach-schluss
```
""",
    }


#: Demo votes: poll id → (account handle or None for a slip, answer).
VOTES = {
    "demo-sommerfest-draussen": [
        (None, {"choice": c}) for c in "ja ja ja nein ja enthaltung ja nein ja".split()
    ],
    "demo-sommerfest-termin": [
        ("vorstand-land", {"slots": {"fr1": "ja", "fr2": "vielleicht", "fr3": "nein"}}),
        ("vorstand-erfurt", {"slots": {"fr1": "ja", "fr2": "ja", "fr3": "nein"}}),
        ("mitglied-erfurt", {"slots": {"fr1": "vielleicht", "fr2": "ja", "fr3": "ja"}}),
        ("mitglied-jena", {"slots": {"fr1": "ja", "fr2": "nein", "fr3": "vielleicht"}}),
        ("admin", {"slots": {"fr1": "ja", "fr2": "ja", "fr3": "nein"}}),
    ],
    "demo-sprecherinnen-wahl": [
        ("vorstand-erfurt", {"ranking": ["kim", "alex", "deniz", "robin"]}),
        ("mitglied-erfurt", {"ranking": ["alex", "kim"]}),
        (None, {"ranking": ["kim", "deniz", "alex"]}),
        (None, {"ranking": ["deniz", "kim", "robin", "alex"]}),
        (None, {"ranking": ["kim", "alex"]}),
        (None, {"ranking": ["alex", "kim", "robin", "deniz"]}),
        (None, {"ranking": ["robin", "kim", "alex", "deniz"]}),
    ],
    "demo-antrag-a1": [(None, {"choice": c}) for c in "ja ja nein ja enthaltung ja nein".split()],
}
#: Slips printed for the members' meeting (some of them used above).
SLIPS = {"demo-antrag-a1": 12}


def add_demo(state, say) -> None:
    """Commit the demo pages (once), sync, and cast the demo votes."""
    from wiki.api import PageRow

    with state.sessions() as session:
        in_spaces = session.get(PageRow, KV) is not None
    files = {f"{path}.md": text.encode() for path, text in pages(date.today(), in_spaces).items()}
    if not commit_demo(state, files, "Demo-Umfragen angelegt"):
        return
    with state.sessions() as session:
        for poll_id, ballots in VOTES.items():
            row = session.get(PollDef, poll_id)
            if row is None:  # the block did not validate: nothing to vote in
                continue
            cast_votes(session, row, ballots, SLIPS.get(poll_id, 0))
    first = next(iter(files)).removesuffix(".md")
    say(f"Demo-Umfragen: {len(VOTES)} Abstimmungen und ein Formular, z. B. auf /{first}")


def cast_votes(session, row: PollDef, ballots, slips: int) -> None:
    """Cast ``ballots`` (account votes through the account's principal, the others on slips
    issued for the purpose, plus unused slips up to ``slips``)."""
    view = access.view_of(session, row, content().ref(session, row.path))
    anonymous = sum(1 for handle, _ in ballots if handle is None)
    raws = tokens.issue(session, row.id, max(anonymous, slips)) if anonymous or slips else []
    session.commit()
    for handle, answer in ballots:
        try:
            if handle is None:
                votes.cast(session, view, principal_for(None), answer, token=raws.pop())
                continue
            user = session.scalar(select(User).where(User.handle == handle))
            if user is not None:
                votes.cast(session, view, principal_for(user), answer)
        except votes.VoteError:  # e.g. a demo account that is not a member here
            session.rollback()
