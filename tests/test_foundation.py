"""The app factory, configuration, health check, languages and error pages."""
import pytest

from sampling import create_app
from sampling.config import Config


def test_healthz_answers_with_database(client, is_postgres):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "postgresql" if is_postgres else "sqlite"}


def test_production_refuses_to_start_without_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_database_url_is_normalised_to_psycopg(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("SECRET_KEY", "x")
    settings = Config()
    settings.finalize()
    assert settings.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app, is_postgres):
    if is_postgres:
        pytest.skip("SQLite pragmas")
    from sqlalchemy import text

    from sampling.extensions import db
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_chinese_is_the_default_language(client):
    page = client.get("/login").get_data(as_text=True)
    assert "工作人员登录" in page and 'lang="zh-CN"' in page


def test_accept_language_english_is_honoured(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Staff login" in page and "工作人员登录" not in page


def test_lang_switch_is_remembered(client):
    first = client.get("/login?lang=en")
    assert "Staff login" in first.get_data(as_text=True)
    assert "lang=en" in first.headers.get("Set-Cookie", "")
    again = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "Staff login" in again.get_data(as_text=True)
    back = client.get("/login?lang=zh")
    assert "工作人员登录" in back.get_data(as_text=True)


def test_unknown_page_is_a_friendly_localized_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    english = client.get("/no-such-page?lang=en")
    assert "This page does not exist." in english.get_data(as_text=True)


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_api_method_not_allowed_is_json(client):
    response = client.put("/api/v1/rounds")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_too_large_upload_is_json_413(make_app, demo_city):
    app = make_app(MAX_CONTENT_LENGTH=100)
    response = app.test_client().post("/api/v1/auth/token", data="x" * 1000, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_pages_reference_no_cdn(client):
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_unexpected_error_is_json_500_without_trace(app):
    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/api/v1/_boom")
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"]["code"] == "internal" and "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "sqlite:///{tmp}/x.db"])
def test_both_database_set_ups_hide_statement_values(monkeypatch, tmp_path, url):
    monkeypatch.setenv("DATABASE_URL", url.format(tmp=tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    settings = Config()
    settings.finalize()
    assert settings.SQLALCHEMY_ENGINE_OPTIONS["hide_parameters"] is True


def test_a_database_error_carries_no_names_or_phones(app, is_postgres):
    """Errors are logged: the statement's values (names, ID numbers, phones) are not in them."""
    from sqlalchemy.exc import IntegrityError

    from sampling.extensions import db
    from sampling.models import Resident
    assert db.engine.hide_parameters is True
    row = {"name": "张某三", "id_type": "passport", "id_number": "E99887766", "phone": "13812345678", "source": "self"}
    db.session.execute(Resident.__table__.insert(), [row])
    with pytest.raises(IntegrityError) as exc:
        db.session.execute(Resident.__table__.insert(), [{**row, "name": "李某四", "phone": "13987654321"}])
    db.session.rollback()
    message = str(exc.value)
    assert "hidden due to hide_parameters" in message
    assert "李某四" not in message and "13987654321" not in message
    if not is_postgres:  # PostgreSQL's own DETAIL line names the duplicate key (the document number)
        assert "E99887766" not in message
