"""Binding-page sessions end on the server: each account's session epoch.

A session carries the epoch it began in; sign-out and a new binding link move it on, which ends
every earlier session of the account (gspws.web.session). Existing accounts start at 0.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0',
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('session_epoch')
