"""collisions against the system's own register: collisions.source ('roster' | 'register'), a region
for a register collision (no roster), and on PostgreSQL the address_part(address, part) function that
reads building, unit and room from a registered address (SQLite gets it from the app on connect)

Revision ID: 0015
Revises: 0014

"""
from alembic import op
import sqlalchemy as sa

from sampling.residents.addresses import DROP_POSTGRES_FUNCTION, POSTGRES_FUNCTION

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('collisions') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='roster', nullable=False))
        batch_op.add_column(sa.Column('region_id', sa.Integer(), nullable=True))
        batch_op.alter_column('roster_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_collisions_region_id_regions'), 'regions', ['region_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_collisions_region_id'), ['region_id'], unique=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_collisions_source'), "(source = 'roster' AND roster_id IS NOT NULL) OR (source = 'register' AND region_id IS NOT NULL)")
    if op.get_bind().dialect.name == 'postgresql':
        op.get_bind().exec_driver_sql(POSTGRES_FUNCTION)  # not text(): ':' in the regexes is no bind parameter


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(DROP_POSTGRES_FUNCTION)
    op.execute("DELETE FROM collision_rows WHERE collision_id IN (SELECT id FROM collisions WHERE source = 'register')")
    op.execute("DELETE FROM collisions WHERE source = 'register'")
    with op.batch_alter_table('collisions') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_collisions_source'), type_='check')
        batch_op.drop_index(batch_op.f('ix_collisions_region_id'))
        batch_op.drop_constraint(batch_op.f('fk_collisions_region_id_regions'), type_='foreignkey')
        batch_op.alter_column('roster_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('region_id')
        batch_op.drop_column('source')
