"""stats: the samples INSERT trigger per statement on PostgreSQL (a sync batch counts in one pass)

Revision ID: 0009
Revises: 0008

"""
from alembic import op

from sampling.stats.triggers import statement as statement_trigger

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite has no statement-level triggers; its row triggers stay
    for statement in statement_trigger.install():
        bind.exec_driver_sql(statement)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for statement in statement_trigger.uninstall():
        bind.exec_driver_sql(statement)
