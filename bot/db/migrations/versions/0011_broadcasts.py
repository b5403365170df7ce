"""Broadcasts: announcements, their multicast chunks and employees' opt-outs of optional announcements.

Revision ID: 0011_broadcasts
Revises: 0008_import_batches
Create Date: 2026-12-02

Written beside the other features' revisions with down_revision 0008; re-linked after 0010 (certificates) at merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = '0011_broadcasts'
down_revision: str | Sequence[str] | None = '0010_certificates'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create broadcasts, broadcast_chunks and broadcast_optouts."""
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('actor_employee_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_en', sa.Text(), nullable=True),
    sa.Column('link_url', sa.String(length=1000), nullable=True),
    sa.Column('optional', sa.Boolean(), nullable=False),
    sa.Column('personalised', sa.Boolean(), nullable=False),
    sa.Column('send_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=30), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('cancelled_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('scheduled','cancelled','queued')", name=op.f('ck_broadcasts_status')),
    sa.ForeignKeyConstraint(['actor_employee_id'], ['employees.id'], name=op.f('fk_broadcasts_actor_employee_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    op.create_table('broadcast_chunks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('retry_key', sa.String(length=64), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending','sending','sent','failed','cancelled')", name=op.f('ck_broadcast_chunks_status')),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], name=op.f('fk_broadcast_chunks_broadcast_id_broadcasts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_chunks'))
    )
    with op.batch_alter_table('broadcast_chunks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_chunks_broadcast_id'), ['broadcast_id'], unique=False)
        batch_op.create_index('ix_broadcast_chunks_due', ['status', 'next_attempt_at'], unique=False)
    op.create_table('broadcast_optouts',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_broadcast_optouts_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_broadcast_optouts'))
    )


def downgrade() -> None:
    """Drop the broadcast tables."""
    op.drop_table('broadcast_optouts')
    with op.batch_alter_table('broadcast_chunks', schema=None) as batch_op:
        batch_op.drop_index('ix_broadcast_chunks_due')
        batch_op.drop_index(batch_op.f('ix_broadcast_chunks_broadcast_id'))
    op.drop_table('broadcast_chunks')
    op.drop_table('broadcasts')
