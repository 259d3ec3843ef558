"""rosters: a review step (status pending | accepted; existing rosters are accepted), and
task_runs (when the roster purge last ran, shared by every app server)

Revision ID: 0011
Revises: 0010

"""
from alembic import op
import sqlalchemy as sa
import sampling.models.base  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_STATUSES = "status IN ('pending', 'accepted')"


def upgrade():
    # SQLite: a plain ADD COLUMN with the CHECK inline (batch mode would re-create "rosters" and
    # cascade its DROP into roster_entries and collisions).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE rosters ADD COLUMN status VARCHAR(16) DEFAULT 'accepted' NOT NULL "
                   f"CONSTRAINT ck_rosters_status CHECK ({_STATUSES})")
    else:
        op.add_column('rosters', sa.Column('status', sa.String(length=16), server_default='accepted',
                                           nullable=False))
        op.create_check_constraint(op.f('ck_rosters_status'), 'rosters', _STATUSES)
    op.create_table('task_runs',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('last_run_at', sampling.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_task_runs'))
    )


def downgrade():
    op.drop_table('task_runs')
    op.execute("DELETE FROM rosters WHERE status = 'pending'")  # never accepted: not kept as if it were
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE rosters DROP COLUMN status")
    else:
        op.drop_constraint(op.f('ck_rosters_status'), 'rosters', type_='check')
        op.drop_column('rosters', 'status')
