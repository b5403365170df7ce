"""Certificate claims: the photo's hash, size and type, the facts the employee gave, the rule check, HR's decision.

Revision ID: 0010_certificates
Revises: 0008_import_batches
Create Date: 2026-12-02

Written beside other features' revisions with down_revision 0008_import_batches; the lead re-links the
chain at merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = '0010_certificates'
down_revision: str | Sequence[str] | None = '0008_import_batches'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create certificate_claims."""
    op.create_table('certificate_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=16), nullable=True),
    sa.Column('test_id', sa.String(length=16), nullable=True),
    sa.Column('level_label', sa.String(length=64), nullable=True),
    sa.Column('scores', sa.String(length=64), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('tier_level', sa.String(length=16), nullable=True),
    sa.Column('tier_rank', sa.Integer(), nullable=True),
    sa.Column('reward', sa.String(length=32), nullable=True),
    sa.Column('dated', sa.Date(), nullable=True),
    sa.Column('window_end', sa.Date(), nullable=True),
    sa.Column('photo_sha256', sa.String(length=64), nullable=False),
    sa.Column('photo_size', sa.Integer(), nullable=False),
    sa.Column('photo_type', sa.String(length=32), nullable=False),
    sa.Column('source_type', sa.String(length=32), nullable=False),
    sa.Column('photo_deleted_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('withdrawn_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_days', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft','pending','approved','rejected','withdrawn')", name=op.f('ck_certificate_claims_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['employees.id'], name=op.f('fk_certificate_claims_decided_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_certificate_claims_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_claims'))
    )
    with op.batch_alter_table('certificate_claims', schema=None) as batch_op:
        batch_op.create_index('ix_certificate_claims_agency_status', ['agency', 'status'], unique=False)
        batch_op.create_index('ix_certificate_claims_employee_scheme', ['employee_id', 'scheme', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_claims_photo_sha256'), ['photo_sha256'], unique=False)



def downgrade() -> None:
    """Drop certificate_claims."""
    with op.batch_alter_table('certificate_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_claims_photo_sha256'))
        batch_op.drop_index('ix_certificate_claims_employee_scheme')
        batch_op.drop_index('ix_certificate_claims_agency_status')

    op.drop_table('certificate_claims')
