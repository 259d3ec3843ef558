"""audit trail: audit_events, append-only (sampling.audit.guard)

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

import sampling.models.base

from sampling.audit import guard

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        'audit_events',
        sa.Column('id', big_id, nullable=False),
        sa.Column('at', sampling.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('client', sa.String(length=45), nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('object_type', sa.String(length=32), nullable=True),
        sa.Column('object_id', sa.String(length=64), nullable=True),
        sa.Column('region_code', sa.String(length=12), nullable=True),
        sa.Column('region_path', sa.String(length=200), nullable=True),
        sa.Column('people', sa.Integer(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'], unique=False)
    op.create_index('ix_audit_events_action_at', 'audit_events', ['action', 'at'], unique=False)
    op.create_index('ix_audit_events_user_at', 'audit_events', ['user_id', 'at'], unique=False)
    op.create_index('ix_audit_events_region_path', 'audit_events', ['region_path'], unique=False,
                    postgresql_ops={'region_path': 'varchar_pattern_ops'})
    bind = op.get_bind()
    for statement in guard.install_sql(bind.dialect.name):
        bind.exec_driver_sql(statement)


def downgrade():
    bind = op.get_bind()
    for statement in guard.remove_sql(bind.dialect.name):
        bind.exec_driver_sql(statement)
    op.drop_table('audit_events')
