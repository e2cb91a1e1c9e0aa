"""Registry version: lets workers cache services and reload them when an operator changes one.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'registry_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_state')),
    )
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade() -> None:
    op.drop_table('registry_state')
