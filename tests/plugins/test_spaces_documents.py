"""The documents page of a space: every document of the space and its sub-spaces the reader may
see (and no other), and uploading into a page of the space."""

from __future__ import annotations

import io
import re

from conftest import PASSWORD, log_in, make_test_app, save
from sqlalchemy import select

from plugins.spaces.directory import add_member
from wiki.cli import create_user
from wiki.db import Document, User

LV = (
    "---\ntype: space\nname: Landesverband\ncode: LV\nkind: landesverband\n"
    "default_visibility: members\nvisibility: public\n---\nLandesverband\n"
)
OV = (
    "---\ntype: space\nname: Ortsverband\ncode: OV\nkind: ortsverband\n"
    "default_visibility: members\nvisibility: public\n---\nOrtsverband\n"
)
PAGES = {
    "lv/flyer": ("public", "flyer.pdf"),
    "lv/intern": (None, "intern.pdf"),  # members (the space's default)
    "lv/vorstand": ("board", "vorstand.pdf"),
    "lv/ov/protokoll": (None, "ov-protokoll.pdf"),  # members of the sub-space
    "anderswo": ("public", "anderswo.pdf"),  # outside the space
}
ALL_IN_SPACE = {"flyer.pdf", "intern.pdf", "vorstand.pdf", "ov-protokoll.pdf"}


def upload(client, page, name, data=b"%PDF-1.4 test"):
    return client.form(
        f"/-/files/{page}",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def make_app(tmp_path):
    """alice: board of LV; carol: LV member; bob: member of the sub-space OV; erin: nobody."""
    app = make_test_app(tmp_path, WIKI_PLUGINS=["plugins.spaces"])
    admin = log_in(app, "admin")
    assert save(admin, "lv", LV).status_code == 302
    assert save(admin, "lv/ov", OV).status_code == 302
    for path, (visibility, name) in PAGES.items():
        meta = f"visibility: {visibility}\n" if visibility else ""
        assert save(admin, path, f"---\ntitle: {path}\n{meta}---\nText\n").status_code == 302
        assert upload(admin, path, name).status_code == 302
    with app.app_context(), app.extensions["wiki"].sessions() as db:
        users = {u.handle: u for u in db.scalars(select(User))}
        carol = create_user(db, "carol", "Carol", "carol@example.org", PASSWORD)
        create_user(db, "erin", "Erin", "erin@example.org", PASSWORD)
        add_member(db, users["alice"].id, "lv", "board")
        add_member(db, carol.id, "lv", "member")
        add_member(db, users["bob"].id, "lv/ov", "member")
        db.commit()
    return app


def client_for(app, handle):
    if handle == "anon":
        return app.test_client()
    client = app.test_client()
    assert client.form("/-/login", {"handle": handle, "password": PASSWORD}).status_code == 302
    return client


def listed(client, space="lv") -> set[str]:
    response = client.get(f"/-/spaces/{space}/documents")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return set(re.findall(r'href="/-/files/[a-z0-9/-]+/([A-Za-z0-9._-]+)"', html))


def test_documents_page_lists_exactly_what_the_reader_may_see(tmp_path):
    app = make_app(tmp_path)
    expected = {
        "admin": ALL_IN_SPACE,
        "alice": {"flyer.pdf", "intern.pdf", "vorstand.pdf"},
        "carol": {"flyer.pdf", "intern.pdf"},
        "bob": {"flyer.pdf", "intern.pdf", "ov-protokoll.pdf"},
        "erin": {"flyer.pdf"},
        "anon": {"flyer.pdf"},
    }
    for handle, documents in expected.items():
        assert listed(client_for(app, handle)) == documents, handle
    assert listed(client_for(app, "bob"), "lv/ov") == {"ov-protokoll.pdf"}
    assert listed(client_for(app, "carol"), "lv/ov") == set()


def test_hidden_or_unknown_space_answers_404(tmp_path):
    app = make_app(tmp_path)
    admin = log_in(app, "admin")
    hidden = LV.replace("visibility: public\n", "").replace("Landesverband\n", "Intern\n", 1)
    assert save(admin, "lv", hidden).status_code == 302
    assert client_for(app, "erin").get("/-/spaces/lv/documents").status_code == 404
    assert client_for(app, "anon").get("/-/spaces/lv/documents").status_code == 404
    assert client_for(app, "carol").get("/-/spaces/lv/documents").status_code == 200
    assert client_for(app, "carol").get("/-/spaces/nirgends/documents").status_code == 404


def test_upload_into_a_page_of_the_space(tmp_path):
    app = make_app(tmp_path)
    bob = client_for(app, "bob")
    page = bob.get("/-/spaces/lv/documents").get_data(as_text=True)
    options = set(re.findall(r'<option value="([a-z0-9/-]+)"', page))
    assert "lv/ov/protokoll" in options and "lv/intern" in options
    assert "lv/vorstand" not in options and "anderswo" not in options
    response = bob.form(
        "/-/spaces/lv/documents",
        {
            "page": "lv/ov/protokoll",
            "file": (io.BytesIO(b"Tagesordnung"), "tagesordnung.txt"),
            "message": "Tagesordnung",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "tagesordnung.txt" in listed(bob)
    assert "tagesordnung.txt" not in listed(client_for(app, "carol"))  # sub-space members only
    with app.extensions["wiki"].sessions() as db:
        assert db.get(Document, ("lv/ov/protokoll", "tagesordnung.txt")) is not None


def test_upload_refuses_pages_outside_or_out_of_reach(tmp_path):
    app = make_app(tmp_path)
    bob = client_for(app, "bob")
    for target in ("anderswo", "lv/vorstand", "gibt-es-nicht", "../x"):
        response = bob.form(
            "/-/spaces/lv/documents",
            {"page": target, "file": (io.BytesIO(b"x"), "x.txt")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, target
        assert "Bitte eine Seite dieser Gliederung" in response.get_data(as_text=True)
    erin = client_for(app, "erin")  # may read the public flyer page, but not edit it
    assert "upload-form" not in erin.get("/-/spaces/lv/documents").get_data(as_text=True)
    response = erin.form(
        "/-/spaces/lv/documents",
        {"page": "lv/flyer", "file": (io.BytesIO(b"x"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    anonymous = client_for(app, "anon")
    response = anonymous.form(
        "/-/spaces/lv/documents",
        {"page": "lv/flyer", "file": (io.BytesIO(b"x"), "x.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    with app.extensions["wiki"].sessions() as db:
        assert db.get(Document, ("lv/flyer", "x.txt")) is None
        assert db.get(Document, ("anderswo", "x.txt")) is None
