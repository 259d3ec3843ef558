"""positives notice cursor: tubes.flag_seq (the order tubes became positive or invalid) and the
newest one each user has seen on the positives list

Revision ID: 0010
Revises: 0009

"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FLAGGED = "result IN ('positive', 'invalid')"


def upgrade():
    # plain ALTER TABLE ADD COLUMN on both databases (no table copy on SQLite)
    op.add_column('tubes', sa.Column('flag_seq', sa.BigInteger(), nullable=True))
    op.add_column('users', sa.Column('positives_seen_seq', sa.BigInteger(), nullable=True))
    # tubes flagged before this migration: any increasing numbers will do; users start unseen,
    # so their first notice counts the open pools of their area
    op.execute(f"UPDATE tubes SET flag_seq = id WHERE {FLAGGED}")
    op.drop_index('ix_tubes_flagged_resulted_at', table_name='tubes')
    op.create_index('ix_tubes_flag_seq', 'tubes', ['flag_seq'], unique=False,
                    postgresql_where=sa.text("flag_seq IS NOT NULL"), sqlite_where=sa.text("flag_seq IS NOT NULL"))


def downgrade():
    op.drop_index('ix_tubes_flag_seq', table_name='tubes')
    op.create_index('ix_tubes_flagged_resulted_at', 'tubes', ['resulted_at'], unique=False,
                    postgresql_where=sa.text(FLAGGED), sqlite_where=sa.text(FLAGGED))
    op.execute("ALTER TABLE users DROP COLUMN positives_seen_seq")  # SQLite too, without a copy
    op.execute("ALTER TABLE tubes DROP COLUMN flag_seq")
