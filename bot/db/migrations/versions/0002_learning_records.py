"""Learning-hours records (imports, our classes, approved claims).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 07:16:48.390541
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('learning_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('course_code', sa.String(length=64), nullable=True),
    sa.Column('hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('natural_key', sa.String(length=255), nullable=False),
    sa.Column('credited', sa.Boolean(), nullable=False),
    sa.Column('forfeit_reason', sa.String(length=200), nullable=True),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('import_batch', sa.String(length=64), nullable=True),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("bucket IN ('policy','environment','democracy','other')", name=op.f('ck_learning_records_bucket')),
    sa.CheckConstraint("source IN ('portal','hr','class','claim')", name=op.f('ck_learning_records_source')),
    sa.CheckConstraint('hours >= 0', name=op.f('ck_learning_records_hours_nonnegative')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_learning_records_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_records')),
    sa.UniqueConstraint('natural_key', name=op.f('uq_learning_records_natural_key'))
    )
    with op.batch_alter_table('learning_records', schema=None) as batch_op:
        batch_op.create_index('ix_learning_records_employee_year', ['employee_id', 'plan_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_records_enrollment_id'), ['enrollment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('learning_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_records_enrollment_id'))
        batch_op.drop_index('ix_learning_records_employee_year')

    op.drop_table('learning_records')
