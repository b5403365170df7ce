"""Classes (班期), meetings, enrollments, waitlist (issue: classes and enrollment).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Seats are guarded by check constraints (``taken <= capacity + over_capacity``) and unique keys
(one row per person and class; one sequence number per class), beside the guarded UPDATE in code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('course_code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('host_agency', sa.String(length=100), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('materials_url', sa.String(length=500), nullable=True),
    sa.Column('hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('over_capacity', sa.Integer(), nullable=False),
    sa.Column('next_seq', sa.Integer(), nullable=False),
    sa.Column('opens_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('starts_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('eligibility', sa.JSON(), nullable=False),
    sa.Column('audience_note', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('import_batch', sa.String(length=64), nullable=True),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("bucket IN ('policy','environment','democracy','other')", name=op.f('ck_classes_bucket')),
    sa.CheckConstraint("status IN ('open','closed','cancelled')", name=op.f('ck_classes_status')),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_classes_capacity_nonnegative')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_classes_window_order')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_classes_time_order')),
    sa.CheckConstraint('hours > 0', name=op.f('ck_classes_hours_positive')),
    sa.CheckConstraint('over_capacity >= 0', name=op.f('ck_classes_over_capacity_nonnegative')),
    sa.CheckConstraint('taken <= capacity + over_capacity', name=op.f('ck_classes_not_overbooked')),
    sa.CheckConstraint('taken >= 0', name=op.f('ck_classes_taken_nonnegative')),
    sa.ForeignKeyConstraint(['plan_year', 'course_code'], ['catalog_items.plan_year', 'catalog_items.code'], name='fk_classes_course_catalog_items'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classes')),
    sa.UniqueConstraint('code', name=op.f('uq_classes_code'))
    )
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.create_index('ix_classes_course', ['plan_year', 'course_code'], unique=False)
        batch_op.create_index('ix_classes_starts_at', ['starts_at'], unique=False)

    op.create_table('class_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_class_meetings_time_order')),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_class_meetings_class_id_classes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_class_meetings'))
    )
    with op.batch_alter_table('class_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_meetings_class_id'), ['class_id'], unique=False)

    op.create_table('enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('enrolled_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=16), nullable=True),
    sa.Column('substitute_for_id', sa.Integer(), nullable=True),
    sa.Column('attendance', sa.String(length=16), nullable=True),
    sa.Column('leave_hours', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('unexcused_absence', sa.Boolean(), nullable=False),
    sa.Column('attendance_recorded_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("attendance IS NULL OR attendance IN ('attended','absent')", name=op.f('ck_enrollments_attendance')),
    sa.CheckConstraint("cancel_reason IS NULL OR cancel_reason IN ('self','class_cancelled','substituted')", name=op.f('ck_enrollments_cancel_reason')),
    sa.CheckConstraint("status IN ('enrolled','waitlisted','cancelled')", name=op.f('ck_enrollments_status')),
    sa.CheckConstraint('leave_hours IS NULL OR leave_hours >= 0', name=op.f('ck_enrollments_leave_nonnegative')),
    sa.ForeignKeyConstraint(['class_id'], ['classes.id'], name=op.f('fk_enrollments_class_id_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_enrollments_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['substitute_for_id'], ['enrollments.id'], name='fk_enrollments_substitute_for', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments')),
    sa.UniqueConstraint('class_id', 'employee_id', name='uq_enrollments_class_employee'),
    sa.UniqueConstraint('class_id', 'seq', name='uq_enrollments_class_seq')
    )
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_class_status_seq', ['class_id', 'status', 'seq'], unique=False)
        batch_op.create_index('ix_enrollments_employee_status', ['employee_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_employee_status')
        batch_op.drop_index('ix_enrollments_class_status_seq')

    op.drop_table('enrollments')
    with op.batch_alter_table('class_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_meetings_class_id'))

    op.drop_table('class_meetings')
    with op.batch_alter_table('classes', schema=None) as batch_op:
        batch_op.drop_index('ix_classes_starts_at')
        batch_op.drop_index('ix_classes_course')

    op.drop_table('classes')
