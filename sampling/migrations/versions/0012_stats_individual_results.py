"""stats: pools are tubes of more than one person; 1-in-1 tubes count as individual results

Adds stats_site.positive_individuals / invalid_individuals, re-creates the tubes triggers with the
contributions of sampling.stats.triggers.definitions.tube_parts(..., "0012") (a tube's capacity is watched too)
and recomputes the tube counters of the existing rows from the tubes (no samples are read).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from sampling.stats.triggers import definitions as st
from sampling.stats.triggers.rebuild import tube_counters_sql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_COLUMNS = ("positive_individuals", "invalid_individuals")
# migration 0007's trigger conditions, for the downgrade
_WATCHED_0006B = ["status", "round_id", "site_id", "result", "sealed_at", "resulted_at"]


def _install(revision_parts: str, watched: list[str]) -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    parts = st.tube_parts(dialect, revision_parts)
    for statement in (st.drop_tube_triggers(dialect) + st.tube_triggers(dialect, parts, watched, st.TUBE_EXTRA)
                      + [tube_counters_sql(parts)]):
        bind.exec_driver_sql(statement)


def upgrade():
    for name in _COLUMNS:
        op.add_column('stats_site', sa.Column(name, sa.Integer(), server_default='0', nullable=False))
    _install("0012", st.TUBE_WATCHED)


def downgrade():
    _install("0007", _WATCHED_0006B)
    for name in _COLUMNS:
        op.drop_column('stats_site', name)
