"""Fixtures: an app on a freshly migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), clients, staff accounts with tokens, and the demo city."""
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from sampling import create_app
from sampling.extensions import db
from tests.contract import ContractClient

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "test-password-1"


def _base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgres")


@pytest.fixture(scope="session")
def migrated_database(database_url):
    """Wipe the test database once and build it with the migrations (which tests them too)."""
    from flask_migrate import upgrade
    app = create_app(_base_config(database_url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.engine.dispose()
    return database_url


def _wipe() -> None:
    """Empty every table. The audit trail refuses that to the application (sampling.audit.guard):
    PostgreSQL's trigger is passed over in replica mode (the test database's superuser may set it),
    SQLite's triggers are dropped for the wipe and created again."""
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        from sampling.audit import guard
        for statement in guard.remove_sql("sqlite"):
            db.session.execute(text(statement))
        for name in reversed(tables):
            db.session.execute(text(f"DELETE FROM {name}"))
        for statement in guard.install_sql("sqlite"):
            db.session.execute(text(statement))
        db.session.execute(text("DELETE FROM sqlite_sequence")) if db.session.execute(
            text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None
    db.session.commit()


@pytest.fixture
def make_app(migrated_database):
    """Build an app on the test database with extra settings; the data is wiped afterwards."""
    apps = []

    def factory(**overrides):
        app = create_app({**_base_config(migrated_database), **overrides})
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
    if apps:
        with apps[0].app_context():
            _wipe()
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def server(make_app):
    """A second app instance that serves requests, so that requests run in their own app
    context (their own ``g`` and session), as in production, not in the test's context."""
    app = make_app()
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def client(app, server):
    return server.test_client()


@pytest.fixture
def demo_city(app):
    """The demo city: 3 districts, 4 streets, 6 communities, 6 sites, an open round, demo accounts."""
    from sampling.cli import load_demo
    load_demo()
    return app


@pytest.fixture
def stats_round(demo_city, make_user):
    """The known statistics round of tests/stats_data.py, scanned by a 和平区 and a 河东区 sampler;
    stand-in statistics providers a test registers are removed afterwards."""
    from sampling.stats import providers
    from tests.stats_data import build_known_round
    hp = make_user("sampler", sites=("S-HP-001", "S-HP-002"))
    hd = make_user("sampler", sites=("S-HD-001",))
    yield build_known_round((hp.id, hd.id))
    providers.set_roster_provider(None)
    providers.set_followup_provider(None)


@pytest.fixture
def make_user(app):
    """Create a staff account: make_user("coordinator", region="120101")."""
    from sampling.kernel.users import create_user

    def factory(role: str, username: str | None = None, region: str | None = None,
                sites: tuple[str, ...] = ()):
        factory.n += 1
        user = create_user(username or f"{role}{factory.n}", role, PASSWORD, region, sites)
        db.session.commit()
        return user

    factory.n = 0
    return factory


@pytest.fixture
def token_for(client):
    """Authorization headers for a user, through the real token endpoint."""

    def get(user) -> dict:
        response = client.post("/api/v1/auth/token", json={"username": user.username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return get


def csrf_from(html: str) -> str:
    """The CSRF token embedded in a rendered form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, lang: str | None = None):
    """Log in through the real form (CSRF included); returns the final response."""
    page = client.get("/login")
    return client.post("/login" + (f"?lang={lang}" if lang else ""), data={
        "username": username, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True)),
    }, follow_redirects=True)


# --- real browser -------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _wait_for_function(self, expression, arg=None, timeout=None, polling=None):
    """Page.wait_for_function without eval: Playwright's own builds its predicate from the string
    with eval() inside the page, which the Content-Security-Policy forbids (no 'unsafe-eval', see
    sampling/security/headers.py). This polls page.evaluate instead (the DevTools protocol, outside
    the page's policy) until the expression is truthy; same arguments, same timeout error."""
    import time

    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    deadline = time.monotonic() + (timeout if timeout is not None else 30_000) / 1000
    interval = polling if isinstance(polling, int | float) else 50
    while True:
        value = self.evaluate(expression, arg) if arg is not None else self.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise PlaywrightTimeoutError(f"wait_for_function: {expression!r} still false after {timeout} ms")
        self.wait_for_timeout(interval)


@pytest.fixture(scope="session")
def playwright_instance():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; browser tests must run under CI")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import Page, sync_playwright
    Page.wait_for_function = _wait_for_function
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def live_server(server):
    """The serving app on a real port in a background thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server
    http = make_server("127.0.0.1", 0, server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(5)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (Chinese locale, phone-sized) and page."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
