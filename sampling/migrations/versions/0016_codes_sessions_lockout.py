"""trust: a code version per resident (raised by a re-bind at a site); server-side web sessions;
failed-password counts and locks on staff accounts

Revision ID: 0016
Revises: 0015

"""
from alembic import op
import sqlalchemy as sa
import sampling.models.base  # noqa: F401  (custom column types)

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

def upgrade():
    # plain ALTER TABLE ADD COLUMN on both databases (no table copy on SQLite)
    op.add_column('residents', sa.Column('code_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('locked_until', sampling.models.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('sessions_ended_at', sampling.models.base.UTCDateTime(timezone=True),
                                     nullable=True))
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sampling.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sampling.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_user_sessions_key_hash')),
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)

def downgrade():
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    op.execute("ALTER TABLE users DROP COLUMN sessions_ended_at")
    op.execute("ALTER TABLE users DROP COLUMN locked_until")  # SQLite too, without a copy
    op.execute("ALTER TABLE users DROP COLUMN failed_logins")
    op.execute("ALTER TABLE residents DROP COLUMN code_version")
