"""Binding-page sessions end on the server; existing account names in their canonical form.

A session carries the epoch it began in; sign-out and a new binding link move it on, which ends
every earlier session of the account (gspws.web.session). Existing accounts start at 0.

Callers' account names are now looked up in their canonical form (gspws.core.names: NFKC, no
surrounding spaces, lower case), so existing accounts are renamed to theirs. One whose name has no
canonical form, or whose canonical form another account already has, is left as it is and named
in a warning: it answers 3001 until an operator resolves it. The downgrade keeps the new names.

Revision ID: 0004
Revises: 0003
"""
import sys

from alembic import op
import sqlalchemy as sa

from gspws.core.names import lookup

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0',
                                   nullable=False))
    accounts = sa.table('accounts', sa.column('id', sa.Integer),
                        sa.column('account', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(accounts.c.id, accounts.c.account)
                        .order_by(accounts.c.id)).all()
    taken = {row.account for row in rows}
    for row in rows:
        canonical = lookup(row.account)
        if canonical == row.account:
            continue
        if canonical is None or canonical in taken:
            print(f"warning: account {row.account!r} keeps its name: it has no canonical form, "
                  f"or {canonical!r} is taken; callers cannot reach it until it is resolved",
                  file=sys.stderr)
            continue
        conn.execute(accounts.update().where(accounts.c.id == row.id)
                     .values(account=canonical))
        taken.add(canonical)


def downgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('session_epoch')
