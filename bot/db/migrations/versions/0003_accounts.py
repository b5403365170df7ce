"""Accounts: roles, binding codes, binding attempts, admin audit (issue: accounts and hours).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Also an index for the HR report, which sums a plan year's credited hours per employee and bucket.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.base

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('employee_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('agency', sa.String(length=100), nullable=False),
    sa.Column('granted_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('granted_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("role IN ('agency_hr','city_admin')", name=op.f('ck_employee_roles_role')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_employee_roles_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employee_roles')),
    sa.UniqueConstraint('employee_id', 'role', 'agency', name=op.f('uq_employee_roles_employee_id'))
    )
    with op.batch_alter_table('employee_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employee_roles_employee_id'), ['employee_id'], unique=False)

    op.create_table('binding_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=200), nullable=False),
    sa.Column('batch', sa.String(length=64), nullable=False),
    sa.Column('created_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_by_account_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', bot.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_binding_codes_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by_account_id'], ['channel_accounts.id'], name=op.f('fk_binding_codes_used_by_account_id_channel_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_codes'))
    )
    with op.batch_alter_table('binding_codes', schema=None) as batch_op:
        batch_op.create_index('ix_binding_codes_employee_open', ['employee_id', 'used_at', 'revoked_at'], unique=False)

    op.create_table('binding_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('employee_no', sa.String(length=32), nullable=False),
    sa.Column('at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_attempts'))
    )
    with op.batch_alter_table('binding_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_binding_attempts_employee_no', ['employee_no', 'at'], unique=False)
        batch_op.create_index('ix_binding_attempts_user', ['channel', 'external_id', 'at'], unique=False)

    op.create_table('admin_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_employee_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['actor_employee_id'], ['employees.id'], name=op.f('fk_admin_audit_actor_employee_id_employees'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_audit'))
    )
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.create_index('ix_admin_audit_at', ['at'], unique=False)

    # The HR report: SUM(hours) GROUP BY employee, bucket for one plan year, from the index alone.
    with op.batch_alter_table('learning_records', schema=None) as batch_op:
        batch_op.create_index('ix_learning_records_year_report',
                              ['plan_year', 'employee_id', 'credited', 'bucket', 'hours'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('learning_records', schema=None) as batch_op:
        batch_op.drop_index('ix_learning_records_year_report')
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_audit_at')
    op.drop_table('admin_audit')
    with op.batch_alter_table('binding_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_binding_attempts_user')
        batch_op.drop_index('ix_binding_attempts_employee_no')
    op.drop_table('binding_attempts')
    with op.batch_alter_table('binding_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_binding_codes_employee_open')
    op.drop_table('binding_codes')
    with op.batch_alter_table('employee_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employee_roles_employee_id'))
    op.drop_table('employee_roles')
