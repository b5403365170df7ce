"""Outbox rows say what they are about (kind) and which sending they belong to (batch_id, indexed).

A delivery report per batch (an import that cancels classes, a broadcast later) counts the rows of one
batch by kind and status; the index keeps that a range read instead of a scan of the whole outbox.
Both columns are nullable: rows written before this revision have neither.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``kind`` and ``batch_id`` with its index."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("batch_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_batch_id"), ["batch_id"], unique=False)


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_batch_id"))
        batch_op.drop_column("batch_id")
        batch_op.drop_column("kind")
