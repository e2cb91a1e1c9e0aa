"""Initial schema: services, grants, networks, accounts, tokens, audit events.

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('account', name=op.f('uq_accounts_account'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('service_id', sa.String(length=32), nullable=True),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=128), nullable=True),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'])

    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('service_id', name=op.f('uq_services_service_id'))
    )
    op.create_table('service_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_pk', sa.Integer(), nullable=False),
    sa.Column('function', sa.String(length=100), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['service_pk'], ['services.id'], name=op.f('fk_service_grants_service_pk_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_grants')),
    sa.UniqueConstraint('service_pk', 'function', name=op.f('uq_service_grants_service_pk'))
    )
    op.create_index(op.f('ix_service_grants_service_pk'), 'service_grants', ['service_pk'])

    op.create_table('service_networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_pk', sa.Integer(), nullable=False),
    sa.Column('cidr', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['service_pk'], ['services.id'], name=op.f('fk_service_networks_service_pk_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_networks')),
    sa.UniqueConstraint('service_pk', 'cidr', name=op.f('uq_service_networks_service_pk'))
    )
    op.create_index(op.f('ix_service_networks_service_pk'), 'service_networks', ['service_pk'])

    op.create_table('tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.Enum('totp', 'hotp', 'ocra', name='tokentype', native_enum=False, length=10), nullable=False),
    sa.Column('algorithm', sa.String(length=10), nullable=False),
    sa.Column('digits', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('secret', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'active', 'disabled', 'locked', name='tokenstatus', native_enum=False, length=10), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.Column('device_name', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_tokens_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    sa.UniqueConstraint('serial', name=op.f('uq_tokens_serial'))
    )
    op.create_index(op.f('ix_tokens_account_id'), 'tokens', ['account_id'])



def downgrade() -> None:
    op.drop_index(op.f('ix_tokens_account_id'), table_name='tokens')
    op.drop_table('tokens')
    op.drop_index(op.f('ix_service_networks_service_pk'), table_name='service_networks')
    op.drop_table('service_networks')
    op.drop_index(op.f('ix_service_grants_service_pk'), table_name='service_grants')
    op.drop_table('service_grants')
    op.drop_table('services')
    op.drop_index(op.f('ix_audit_events_at'), table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('accounts')
