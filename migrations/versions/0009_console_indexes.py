"""The operator console at scale: the dashboard's rollup of the audit trail, and the indexes the
console's search and audit pages need with 1,000,000 tokens and 10,000,000 audit rows.

``audit_calls_by_code``, ``audit_calls_by_service`` and ``audit_latency`` hold calls per
10-minute period, filled by the dashboard (gspws.store.dashboard) for the periods listed in
``audit_rolled_periods``. Each index below is there because a console query needed it (EXPLAIN on SQLite and
PostgreSQL, figures in docs/admin.md).

Revision ID: 0009
Revises: 0007 (0006 on the brief; re-chained after merging admin-console's 0007)
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_rolled_periods',
    sa.Column('period', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('period', name=op.f('pk_audit_rolled_periods'))
    )
    op.create_table('audit_calls_by_code',
    sa.Column('period', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('code', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'code', name=op.f('pk_audit_calls_by_code'))
    )
    op.create_table('audit_calls_by_service',
    sa.Column('period', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('service_id', sa.String(length=32), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'service_id', name=op.f('pk_audit_calls_by_service'))
    )
    op.create_table('audit_latency',
    sa.Column('period', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'bucket', name=op.f('pk_audit_latency'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_operation_at', ['operation', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_code_at', ['code', 'at'], unique=False)
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(
            'ix_tokens_locked',
            ['locked_at'],
            unique=False,
            sqlite_where=sa.text("status = 'locked'"),
            postgresql_where=sa.text("status = 'locked'"),
        )


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_tokens_locked')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_code_at')
        batch_op.drop_index('ix_audit_events_operation_at')
    op.drop_table('audit_latency')
    op.drop_table('audit_calls_by_service')
    op.drop_table('audit_calls_by_code')
    op.drop_table('audit_rolled_periods')
