"""Reminders: opt-outs per category, the sweeps' watermarks, survey invitations and unlinkable answers.

Revision ID: 0009_reminders
Revises: 0011_broadcasts (written beside the other features on 0008; re-linked at merge)
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = '0009_reminders'
down_revision: str | Sequence[str] | None = '0011_broadcasts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create reminder_optouts, reminder_watermarks, survey_invitations and survey_answers."""
    op.create_table('reminder_optouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('class','deadline','survey')", name=op.f('ck_reminder_optouts_category')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_reminder_optouts_employee_id_employees'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_optouts')),
    sa.UniqueConstraint('employee_id', 'category', name='uq_reminder_optouts_employee_category')
    )
    op.create_table('reminder_watermarks',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('swept_until', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_reminder_watermarks'))
    )
    op.create_table('survey_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_survey_invitations_class_id_classes'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'],
                            name=op.f('fk_survey_invitations_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('class_id', 'employee_id', name='uq_survey_invitations_class_employee'),
    sa.UniqueConstraint('token', name=op.f('uq_survey_invitations_token'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_invitations_class_id'), ['class_id'], unique=False)
    op.create_table('survey_answers',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.String(length=32), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_survey_answers_class_id_classes'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    sa.UniqueConstraint('response_id', 'question_id', name='uq_survey_answers_response_question')
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_answers_class_id'), ['class_id'], unique=False)


def downgrade() -> None:
    """Drop the reminders' tables."""
    op.drop_table('survey_answers')
    op.drop_table('survey_invitations')
    op.drop_table('reminder_watermarks')
    op.drop_table('reminder_optouts')
