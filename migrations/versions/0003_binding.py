"""Binding an authenticator: pending tokens' deadline and single-use binding links.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tokens') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'binding_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_binding_links_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_binding_links_token_hash')),
    )
    op.create_index(op.f('ix_binding_links_account_id'), 'binding_links', ['account_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_binding_links_account_id'), table_name='binding_links')
    op.drop_table('binding_links')
    with op.batch_alter_table('tokens') as batch:
        batch.drop_column('expires_at')
