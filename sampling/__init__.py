"""The field system for citywide mass testing."""
from collections.abc import Mapping

from flask import Flask
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.engine import Engine

from sampling.config import INSTANCE_DIR, Config
from sampling.extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = str(__import__("pathlib").Path(__file__).with_name("migrations"))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, foreign keys, a busy timeout and our SQL functions on every SQLite connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        from sampling.residents.addresses import register_sqlite_function
        register_sqlite_function(dbapi_connection)


def create_app(config: Mapping | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR),
                template_folder="../templates", static_folder="../static")
    settings = Config()
    for key, value in (config or {}).items():
        setattr(settings, key, value)
    settings.finalize()
    app.config.from_object(settings)
    if settings.PROXY_FIX_X_FOR or settings.PROXY_FIX_X_PROTO:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.PROXY_FIX_X_FOR, x_proto=settings.PROXY_FIX_X_PROTO)

    from sampling import i18n
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    app.after_request(i18n.remember_choice)
    from sampling import input_guard
    from sampling.security import headers
    input_guard.register(app)
    headers.register(app)
    from flask import request

    from sampling import audit
    # every request's client address, for the audit trail (after ProxyFix: the trusted proxies' view)
    app.before_request(lambda: audit.bind_client(request.remote_addr))

    from sampling.kernel import sessions
    login_manager.user_loader(sessions.load)  # a session ended on the server is refused

    from sampling import api, error_handlers, web
    csrf.exempt(api.bp)  # the API checks bearer tokens, or CSRF itself for session callers
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    error_handlers.register(app)

    from sampling import cli
    cli.register(app)

    from sampling.lab import positives
    from sampling.rosters import collisions
    from sampling.stats import providers
    providers.set_followup_provider(positives.followup_by_site)
    providers.set_roster_provider(collisions.completion_by_region)

    from sampling.web import pages
    pages.register(app)
    app.jinja_env.globals.update(get_locale=lambda: str(get_locale()), lang_url=i18n.switch_url)
    return app
