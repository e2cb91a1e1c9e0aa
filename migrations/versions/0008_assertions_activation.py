"""QR-scan sign-in and offline token distribution (issue 14).

``assertions`` holds the sign-ins GetAssertionId starts: SHA-256 hashes of the AssertionId and
of the approval URL's token, the number shown beside the QR and the phone's three choices, the
status (pending, proven, approved, denied), the account once proven, and when it was handed over.
``activation_codes`` holds offline distributions: a keyed hash of the activation code and an
argon2id hash of the activation password per token, their expiry, wrong tries and use.

Revision ID: 0008
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assertions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('approval_hash', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=2), nullable=False),
    sa.Column('choices', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('account', sa.String(length=128), nullable=True),
    sa.Column('approver_hash', sa.String(length=64), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assertions')),
    sa.UniqueConstraint('approval_hash', name=op.f('uq_assertions_approval_hash')),
    sa.UniqueConstraint('id_hash', name=op.f('uq_assertions_id_hash'))
    )
    with op.batch_alter_table('assertions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assertions_expires_at'), ['expires_at'], unique=False)

    op.create_table('activation_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['token_id'], ['tokens.id'], name=op.f('fk_activation_codes_token_id_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_codes')),
    sa.UniqueConstraint('token_id', name=op.f('uq_activation_codes_token_id'))
    )


def downgrade() -> None:
    op.drop_table('activation_codes')
    with op.batch_alter_table('assertions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assertions_expires_at'))

    op.drop_table('assertions')
