"""The schema comes only from migrations: after `db upgrade` the database matches the models, and
every migration can be undone (`db downgrade base`) and done again."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, make_url, text

from sampling import create_app
from sampling.extensions import db
from tests.conftest import _base_config


def test_migrated_database_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


@pytest.fixture
def fresh_database(tmp_path, database_url, is_postgres):
    """A database of its own (the suite's stays migrated): an SQLite file, or on PostgreSQL a
    database named after the test database with "_migrations", dropped afterwards."""
    if not is_postgres:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_migrations"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _leftovers(connection) -> list[str]:
    """Tables, views, triggers and functions left in the database besides alembic_version."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(text(
            "SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public' "
            "UNION ALL SELECT 'view ' || viewname FROM pg_views WHERE schemaname = 'public' "
            "UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal "
            "UNION ALL SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' UNION ALL SELECT 'type ' || typname FROM pg_type t JOIN pg_namespace n "
            "ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'"))
    else:
        rows = connection.execute(text("SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    return sorted(r[0] for r in rows if r[0] not in ("table alembic_version", "index alembic_version_pkc"))


def test_every_downgrade_works_and_the_chain_builds_again(fresh_database):
    """upgrade to head with the demo city in it → downgrade to base (every migration's downgrade,
    in order, data present) → nothing left but alembic_version → upgrade to head again → the schema
    matches the models. Whatever the chain's file names: the revisions come from Alembic."""
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    from sampling.cli import load_demo
    app = create_app(_base_config(fresh_database))
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        head = ScriptDirectory.from_config(config).get_current_head()
        upgrade()
        load_demo()
        db.session.commit()
        assert _revision() == head
        with db.engine.connect() as connection:
            assert {"table samples", "table stats_site"} <= set(_leftovers(connection))
        downgrade(revision="base")
        assert _revision() is None
        with db.engine.connect() as connection:
            assert _leftovers(connection) == []
        upgrade()
        assert _revision() == head
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        db.session.remove()
        db.engine.dispose()


def _revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
