"""client operations without an HTTP status: the record keeps what was done (op, answer body);
the API edge decides how it is answered

Revision ID: 0013
Revises: 0012

"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('client_operations') as batch_op:
        batch_op.drop_column('status')


def downgrade():
    # every recorded operation was a success: an open or an add answered 201, a seal 200, an undo 204
    with op.batch_alter_table('client_operations') as batch_op:
        batch_op.add_column(sa.Column('status', sa.Integer(), nullable=False, server_default='200'))
    op.execute("UPDATE client_operations SET status = CASE op WHEN 'undo' THEN 204 WHEN 'seal' THEN 200 "
               "ELSE 201 END")
