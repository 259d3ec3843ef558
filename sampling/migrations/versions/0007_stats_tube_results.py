"""stats: pools by lab result and turnaround (needs the lab's tubes.result, sealed_at, resulted_at)

Runs after the lab migration (0005) that adds tubes.result / boxed_at / received_at / resulted_at;
while those columns are missing it changes nothing. Migration 0012 replaces its tubes triggers.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
from sqlalchemy import inspect

from sampling.stats.triggers import definitions as st

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

WATCHED = ["status", "round_id", "site_id", "result", "sealed_at", "resulted_at"]
# members of a resulted pool follow its sample_count; plain scans (result NULL) do not fire the trigger
EXTRA = "(NEW.result IS NOT NULL AND OLD.sample_count <> NEW.sample_count)"


def _has_results(bind) -> bool:
    return {"result", "resulted_at"} <= {c["name"] for c in inspect(bind).get_columns("tubes")}


def upgrade():
    bind = op.get_bind()
    if not _has_results(bind):
        return
    dialect = bind.dialect.name
    parts = st.tube_parts(dialect, "0007")
    for statement in st.drop_tube_triggers(dialect) + st.tube_triggers(dialect, parts, WATCHED, EXTRA):
        bind.exec_driver_sql(statement)
    from sampling.stats.triggers.rebuild import rebuild_sql
    for statement in rebuild_sql(dialect, None, revision="0007"):
        bind.exec_driver_sql(statement)


def downgrade():
    bind = op.get_bind()
    if not _has_results(bind):
        return
    dialect = bind.dialect.name
    for statement in st.drop_tube_triggers(dialect) + st.tube_triggers(dialect, st.TUBE_STATUS,
                                                                       ["status", "round_id", "site_id"]):
        bind.exec_driver_sql(statement)
