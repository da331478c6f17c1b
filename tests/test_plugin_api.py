"""The sample plugin proves the plugin API: syntax, page type, widget, blueprint, projection."""

import pytest
import sample_plugin
from conftest import head, make_test_app, save
from sqlalchemy import text as text_sql


@pytest.fixture
def plugin_app(tmp_path):
    sample_plugin.PROJECTION.clear()
    app = make_test_app(tmp_path, WIKI_PLUGINS=["sample_plugin"])
    yield app
    app.extensions["wiki"].store.close()


def test_syntax_widget_and_projection(plugin_app):
    from conftest import log_in

    client = log_in(plugin_app, "user")
    text = (
        "---\ntype: counter\nstart: 3\n---\n# Zähler\n\n!!laut!!\n\n```counter\nlabel: Gäste\n```\n"
    )
    assert save(client, "zaehler", text, base="").status_code == 302
    html = client.get("/zaehler").get_data(as_text=True)
    assert '<strong class="shout">LAUT</strong>' in html
    # the widget hook gets the request's database session (it counts the projected pages)
    with plugin_app.extensions["wiki"].sessions() as session:
        count = session.scalar(text_sql("select count(*) from pages"))
    assert f'<div class="counter" data-who="angemeldet" data-pages="{count}">Gäste: 0</div>' in html
    anonymous = plugin_app.test_client().get("/zaehler").get_data(as_text=True)
    assert 'data-who="anonym"' in anonymous  # widgets are filled per request, not cached
    assert sample_plugin.PROJECTION["zaehler"] == "Zähler"
    assert ["zaehler", "Zähler"] in client.get("/-/sample/titles").get_json()


def test_page_type_validation_refuses_and_commits_nothing(plugin_app):
    from conftest import log_in

    client = log_in(plugin_app, "user")
    before = head(plugin_app)
    response = save(client, "zaehler", "---\ntype: counter\nstart: -1\n---\n", base="")
    assert response.status_code == 400
    assert "nicht negative" in response.get_data(as_text=True)
    assert head(plugin_app) == before


def test_projection_follows_rename_delete_and_reindex(plugin_app):
    from conftest import log_in

    client = log_in(plugin_app, "user")
    save(client, "zaehler", "---\ntype: counter\nstart: 1\n---\n# Z", base="")
    client.form("/-/rename/zaehler", {"new_path": "zaehler-neu"})
    assert "zaehler" not in sample_plugin.PROJECTION
    assert sample_plugin.PROJECTION["zaehler-neu"] == "Z"
    client.form("/-/delete/zaehler-neu", {"base": head(plugin_app)})
    assert "zaehler-neu" not in sample_plugin.PROJECTION
    sample_plugin.PROJECTION["stale"] = "x"
    plugin_app.extensions["wiki"].syncer.reindex()
    assert "stale" not in sample_plugin.PROJECTION and "start" in sample_plugin.PROJECTION


def test_widget_yaml_error_is_shown(plugin_app):
    from conftest import log_in

    client = log_in(plugin_app, "user")
    save(client, "kaputt", "```counter\nlabel: [offen\n```\n", base="")
    html = client.get("/kaputt").get_data(as_text=True)
    assert 'class="widget-error"' in html and "YAML" in html
