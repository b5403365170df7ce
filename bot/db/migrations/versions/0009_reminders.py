"""Reminders: opt-outs per category and the sweeps' watermarks.

Revision ID: 0009_reminders
Revises: 0008_import_batches
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = '0009_reminders'
down_revision: str | Sequence[str] | None = '0008_import_batches'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create reminder_optouts and reminder_watermarks."""
    op.create_table('reminder_optouts',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('class','deadline','survey')", name=op.f('ck_reminder_optouts_category')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_reminder_optouts_employee_id_employees'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', 'category', name=op.f('pk_reminder_optouts'))
    )
    op.create_table('reminder_watermarks',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('swept_until', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_reminder_watermarks'))
    )


def downgrade() -> None:
    """Drop the reminders' tables."""
    op.drop_table('reminder_watermarks')
    op.drop_table('reminder_optouts')
