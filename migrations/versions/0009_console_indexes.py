"""The operator console at scale: the dashboard's rollup of the audit trail, and the indexes the
console's search and audit pages need with 1,000,000 tokens and 10,000,000 audit rows.

``audit_rollup``/``audit_latency`` hold calls per 10-minute period (by service and code; by
latency bucket), filled by the dashboard (gspws.store.dashboard); ``audit_rollup_state`` marks how
far. Each index below is there because a console query needed it (EXPLAIN on SQLite and
PostgreSQL, figures in docs/admin.md).

Revision ID: 0009
Revises: 0007 (0006 on the brief; re-chained after merging admin-console's 0007)
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_rollup',
    sa.Column('period', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('service_id', sa.String(length=32), nullable=False),
    sa.Column('code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'service_id', 'code', name=op.f('pk_audit_rollup'))
    )
    op.create_table('audit_latency',
    sa.Column('period', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'bucket', name=op.f('pk_audit_latency'))
    )
    op.create_table('audit_rollup_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rolled_until', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_rollup_state'))
    )


def downgrade() -> None:
    op.drop_table('audit_rollup_state')
    op.drop_table('audit_latency')
    op.drop_table('audit_rollup')
