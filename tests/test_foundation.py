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


@pytest.mark.parametrize("header, english", [
    ("zh-CN,en;q=0.5", False), ("zh-HK,zh-TW;q=0.9,en;q=0.8", False), ("en-US,en;q=0.9", True),
    ("fr-FR,en;q=0.7,zh;q=0.3", True), ("en;q=0,zh-CN;q=0.8", False), ("fr", False)])
def test_accept_language_takes_the_first_supported_primary_language(client, header, english):
    page = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert ("Staff login" in page) is english and ("工作人员登录" in page) is not english


def test_lang_switch_is_remembered(client):
    first = client.get("/login?lang=en")
    assert "Staff login" in first.get_data(as_text=True)
    assert "lang=en" in first.headers.get("Set-Cookie", "")
    again = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "Staff login" in again.get_data(as_text=True)
    back = client.get("/login?lang=zh")
    assert "工作人员登录" in back.get_data(as_text=True)


def test_language_switch_keeps_the_other_query_parameters(client):
    page = client.get("/login?next=/scan/&lang=zh").get_data(as_text=True)
    assert 'href="/login?next=%2Fscan%2F&amp;lang=en"' in page
    english = client.get("/login?next=/scan/&lang=en")
    assert 'href="/login?next=%2Fscan%2F&amp;lang=zh"' in english.get_data(as_text=True)
    assert client.get("/login?lang=en").get_data(as_text=True).count('href="/login?lang=zh"') == 1


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


def test_an_unexpected_database_error_logs_no_personal_data(app, demo_city, caplog):
    """A unique key's DETAIL quotes the row's values; the log keeps the kind, the constraint and
    the code path, not the ID number (and the answer is the plain 500)."""
    from sqlalchemy import text

    from sampling.extensions import db

    @app.get("/api/v1/_dup")
    def dup():
        for _ in range(2):
            db.session.execute(text("INSERT INTO residents (name, id_type, id_number, phone, source, created_at) "
                                    "VALUES ('张三', 'resident_id_card', '12010119900101123X', '13800000000', "
                                    "'self', CURRENT_TIMESTAMP)"))
        return "unreachable"

    with caplog.at_level("ERROR"):
        response = app.test_client().get("/api/v1/_dup")
    assert response.status_code == 500 and response.get_json()["error"]["code"] == "internal"
    logged = caplog.text  # messages and any traceback printed with them
    assert "IntegrityError" in logged or "UniqueViolation" in logged
    assert "12010119900101123X" not in logged and "13800000000" not in logged and "张三" not in logged


def test_gunicorn_access_log_lines_start_with_a_timestamp():
    import re
    import runpy
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config as GunicornConfig
    from gunicorn.glogging import Logger

    from tests.conftest import ROOT
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    logger = Logger(GunicornConfig())
    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "GET", "RAW_URI": "/healthz",
               "SERVER_PROTOCOL": "HTTP/1.1"}
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=15, headers=[]), SimpleNamespace(headers=[]),
                         environ, timedelta(milliseconds=12))
    line = settings["access_log_format"] % logger.atoms_wrapper_class(atoms)
    assert re.fullmatch(r'\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] 10\.0\.0\.7 "GET /healthz HTTP/1\.1" '
                        r'200 15 12ms', line), line


@pytest.fixture
def fresh_instance(monkeypatch, tmp_path):
    """Settings read from a bare environment, with instance/ in a temporary folder."""
    from sampling import config
    for name in ("SECRET_KEY", "APP_ENV", "DATABASE_URL", "SESSION_COOKIE_SECURE", "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    return tmp_path / "instance"


def test_development_secret_is_generated_under_instance_and_kept_across_restarts(fresh_instance):
    import stat
    first = Config()
    first.finalize()
    stored = fresh_instance / "secret_key"
    assert len(first.SECRET_KEY) == 64 and stored.read_text().strip() == first.SECRET_KEY
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # readable by the app's user only
    restarted = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert restarted.config["SECRET_KEY"] == first.SECRET_KEY  # sessions and codes survive a restart


def test_a_secret_from_the_environment_is_used_and_nothing_written(fresh_instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    settings = Config()
    settings.finalize()
    assert settings.SECRET_KEY == "from-the-environment" and not (fresh_instance / "secret_key").exists()


def test_default_database_is_an_sqlite_file_under_instance(fresh_instance):
    settings = Config()
    settings.finalize()
    assert settings.SQLALCHEMY_DATABASE_URI == f"sqlite:///{fresh_instance / 'sampling.db'}"
    assert fresh_instance.is_dir() and settings.SQLALCHEMY_ENGINE_OPTIONS["connect_args"] == {"timeout": 30}


def test_production_with_a_secret_starts_with_secure_cookies(fresh_instance, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "production-secret")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True and not (fresh_instance / "secret_key").exists()


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
