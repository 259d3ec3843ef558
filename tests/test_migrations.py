"""The schema comes only from migrations: after `db upgrade` the database matches the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sampling.extensions import db


def test_migrated_database_matches_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
