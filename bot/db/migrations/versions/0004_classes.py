"""Classes (班期), meetings, enrollments, waitlist (issue: classes and enrollment).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Reserved so that features built side by side keep one linear chain; the owning feature fills it in.
"""

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
