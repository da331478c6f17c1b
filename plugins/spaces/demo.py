"""Demo content of the spaces plugin: a Landesverband with two Kreisverbände and an Ortsverband,
pages of every visibility, a document, and demo accounts of different chapters and roles."""

from __future__ import annotations

from plugins.spaces.directory import add_member
from wiki.api import commit_demo

SPACES = {
    "thueringen": ("Landesverband Thüringen", "TH", "landesverband", "members"),
    "thueringen/erfurt": ("Kreisverband Erfurt", "EF", "kreisverband", "members"),
    "thueringen/jena": ("Kreisverband Jena", "J", "kreisverband", "members"),
    "thueringen/erfurt/nord": ("Ortsverband Erfurt-Nord", "EF-N", "ortsverband", "members"),
}

PAGES = {
    "thueringen/willkommen": (
        "public",
        "Willkommen beim Landesverband",
        "Diese Seite ist öffentlich: alle können sie lesen.\n\n"
        "Unsere Kreisverbände: [[thueringen/erfurt]] und [[thueringen/jena]].",
    ),
    "thueringen/intern": (
        "internal",
        "Hinweise für Angemeldete",
        "Diese Seite sehen alle, die angemeldet sind – auch Mitglieder anderer Gliederungen.",
    ),
    "thueringen/mitgliederinfo": (
        "members",
        "Mitgliederinfo",
        "Nur für Mitglieder des Landesverbands (dazu gehören alle Mitglieder der Kreis- und "
        "Ortsverbände).\n\n- Nächster Landeskongress: im Frühjahr\n- Beitrag: siehe Satzung",
    ),
    "thueringen/vorstand": (
        "board",
        "Vorstandsnotizen",
        "Nur der Landesvorstand kann diese Seite lesen.",
    ),
    "thueringen/erfurt/protokoll-mv": (
        "members",
        "Protokoll der Mitgliederversammlung",
        "Das Protokoll als PDF: [Protokoll](_files/protokoll.pdf)\n\n"
        "1. Begrüßung\n2. Wahl des Vorstands\n3. Verschiedenes",
    ),
    "thueringen/erfurt/nord/treffen": (
        "members",
        "Unsere Treffen",
        "Wir treffen uns jeden zweiten Dienstag.",
    ),
}

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

USERS = (
    ("vorstand-land", "Vera Vorstand (Land)", "thueringen", "board"),
    ("vorstand-erfurt", "Erik Vorstand (Erfurt)", "thueringen/erfurt", "board"),
    ("mitglied-erfurt", "Mia Mitglied (Erfurt)", "thueringen/erfurt/nord", "member"),
    ("mitglied-jena", "Jan Mitglied (Jena)", "thueringen/jena", "member"),
)


def space_text(name: str, code: str, kind: str, visibility: str) -> str:
    """The definition page of a demo space."""
    return (
        f"---\ntitle: {name}\ntype: space\nname: {name}\ncode: {code}\nkind: {kind}\n"
        f"default_visibility: {visibility}\nedit: members\nvisibility: public\n---\n"
        f"Das ist der Bereich „{name}“.\n"
    )


def create(state, say) -> None:
    """Commit the demo pages, then create the demo accounts and their memberships."""
    from wiki.api import create_user, demo_login_line, new_password

    files: dict[str, bytes | None] = {}
    for path, (name, code, kind, visibility) in SPACES.items():
        files[f"{path}.md"] = space_text(name, code, kind, visibility).encode()
    for path, (visibility, title, body) in PAGES.items():
        text = f"---\ntitle: {title}\nvisibility: {visibility}\n---\n{body}\n"
        files[f"{path}.md"] = text.encode()
    files["thueringen/erfurt/protokoll-mv/_files/protokoll.pdf"] = PDF
    commit_demo(state, files, "Demo-Gliederungen angelegt")
    with state.sessions() as session:
        for handle, name, space, role in USERS:
            password = new_password()
            user = create_user(session, handle, name, f"{handle}@example.org", password)
            add_member(session, user.id, space, role)
            label = "Vorstand" if role == "board" else "Mitglied"
            say(demo_login_line(handle, password, f"{label} in {SPACES[space][0]}"))
        session.commit()
