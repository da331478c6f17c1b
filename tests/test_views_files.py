"""Documents: upload, list, download, replace, delete, old versions, limits and safe serving."""

import io

import pytest
from conftest import head, make_test_app, save

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(client, path, data, filename, **extra):
    form = {"file": (io.BytesIO(data), filename), **extra}
    return client.form(f"/-/files/{path}", form, content_type="multipart/form-data")


def test_upload_list_download_replace_delete(login, app):
    client = login("user")
    assert upload(client, "start", b"%PDF-1.4 eins", "Protokoll.PDF").status_code == 302
    first = head(app)
    listing = client.get("/-/files/start").get_data(as_text=True)
    assert "protokoll.pdf" in listing
    download = client.get("/-/files/start/protokoll.pdf")
    assert download.data == b"%PDF-1.4 eins"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert upload(client, "start", b"%PDF-1.4 zwei", "Protokoll.PDF").status_code == 302
    assert client.get("/-/files/start/protokoll.pdf").data == b"%PDF-1.4 zwei"
    assert client.get(f"/-/files/start/protokoll.pdf?rev={first}").data == b"%PDF-1.4 eins"
    versions = client.get("/-/file-history/start/protokoll.pdf")
    assert versions.status_code == 200 and first[:7] in versions.get_data(as_text=True)
    assert client.form("/-/file-delete/start/protokoll.pdf").status_code == 302
    assert client.get("/-/files/start/protokoll.pdf").status_code == 404
    assert client.get(f"/-/files/start/protokoll.pdf?rev={first}").status_code == 200


def test_raster_image_inline_and_embedded(login, app):
    client = login("user")
    upload(client, "start", PNG, "bild.png")
    response = client.get("/-/files/start/bild.png")
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    save(client, "start", "![Ein Bild](_files/bild.png)")
    assert 'src="/-/files/start/bild.png"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "data,name",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg"),
        (b"<html><script>alert(1)</script></html>", "seite.png"),
        (b"<html><script>alert(1)</script></html>", "seite.html"),
    ],
)
def test_active_content_is_only_a_download(login, data, name):
    client = login("user")
    assert upload(client, "start", data, name).status_code == 302
    response = client.get(f"/-/files/start/{name}")
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("name", ["../x.pdf", ".htaccess", "a b.pdf", "ä.pdf", "x" * 200])
def test_bad_file_names_are_refused(login, app, name):
    before = head(app)
    response = upload(login("user"), "start", b"data", "ignored.pdf", name=name)
    assert response.status_code == 400
    assert "Dateiname" in response.get_data(as_text=True)
    assert head(app) == before


def test_oversize_upload_413_before_commit(tmp_path):
    app = make_test_app(tmp_path, WIKI_MAX_UPLOAD_MB=0.01)
    from conftest import log_in

    client = log_in(app, "user")
    before = head(app)
    response = upload(client, "start", b"x" * 20000, "gross.pdf")
    assert response.status_code == 413
    assert "zu groß" in response.get_data(as_text=True)
    assert head(app) == before


def test_anonymous_cannot_upload(client, app):
    before = head(app)
    response = upload(client, "start", b"x", "a.pdf")
    assert response.status_code in (302, 403)
    assert head(app) == before


def test_documents_of_hidden_pages_are_hidden(login, client):
    user = login("user")
    save(user, "intern", "---\nvisibility: internal\n---\nx", base="")
    upload(user, "intern", b"geheim", "g.pdf")
    assert client.get("/-/files/intern").status_code == 404
    assert client.get("/-/files/intern/g.pdf").status_code == 404
    assert user.get("/-/files/intern/g.pdf").data == b"geheim"
