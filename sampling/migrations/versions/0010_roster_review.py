"""rosters: a review step (status pending | accepted; existing rosters are accepted)

Revision ID: 0010
Revises: 0008

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0008'
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


def downgrade():
    op.execute("DELETE FROM rosters WHERE status = 'pending'")  # never accepted: not kept as if it were
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE rosters DROP COLUMN status")
    else:
        op.drop_constraint(op.f('ck_rosters_status'), 'rosters', type_='check')
        op.drop_column('rosters', 'status')
