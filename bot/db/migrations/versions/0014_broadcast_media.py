"""Broadcast media: an announcement's link button label and its picture's links.

Revision ID: 0014_broadcast_media
Revises: 0013_record_ids
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_broadcast_media'
down_revision: str | Sequence[str] | None = '0013_record_ids'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add broadcasts.link_label, image_url and image_preview_url (all nullable: older rows have none)."""
    with op.batch_alter_table('broadcasts') as batch:
        batch.add_column(sa.Column('link_label', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('image_url', sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column('image_preview_url', sa.String(length=2000), nullable=True))


def downgrade() -> None:
    """Drop the three columns."""
    with op.batch_alter_table('broadcasts') as batch:
        batch.drop_column('image_preview_url')
        batch.drop_column('image_url')
        batch.drop_column('link_label')
