"""Administrators of the operator console (/admin/).

``admins``: name, role (operator|auditor), argon2id password hash, the TOTP secret (Fernet
ciphertext, like token secrets) and its last accepted step (single use), failures and the lock,
disabled, the session epoch, and the SHA-256 of a pending enrolment link with its expiry.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('totp_secret', sa.LargeBinary(), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disabled', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('enrolled', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False),
    sa.Column('enrol_hash', sa.String(length=64), nullable=True),
    sa.Column('enrol_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admins')),
    sa.UniqueConstraint('enrol_hash', name=op.f('uq_admins_enrol_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_admins_name'))
    )
    # The console's searches (prefix, keyset) and audit filters.
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_mobile'), ['mobile'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_service_id_at', ['service_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_account_at', ['account', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_account_at')
        batch_op.drop_index('ix_audit_events_service_id_at')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_mobile'))
    op.drop_table('admins')
