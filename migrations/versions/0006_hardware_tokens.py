"""Hardware and event tokens: drift, OCRA suites, PINs, the pool, and OCRA challenges.

Tokens gain ``drift`` (a TOTP token's clock offset in steps, moved by Sync), ``ocra_suite``,
``pin_hash`` (argon2id) and ``hardware`` (imported rather than bound on the binding page); an
HOTP token's counter is kept in the existing ``last_step``. ``ocra_challenges`` holds the
challenges GetChallenge issued, each single use. The token status gains ``lost`` (a string
column: no schema change).

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ocra_challenges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('challenge', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('service_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['token_id'], ['tokens.id'], name=op.f('fk_ocra_challenges_token_id_tokens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocra_challenges'))
    )
    with op.batch_alter_table('ocra_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ocra_challenges_token_id'), ['token_id'], unique=False)

    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('drift', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('ocra_suite', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pin_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('hardware', sa.Boolean(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('hardware')
        batch_op.drop_column('pin_hash')
        batch_op.drop_column('ocra_suite')
        batch_op.drop_column('drift')

    with op.batch_alter_table('ocra_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ocra_challenges_token_id'))

    op.drop_table('ocra_challenges')
