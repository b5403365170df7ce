"""Accounts: roles, binding codes, binding attempts (issue: accounts and hours).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Reserved so that features built side by side keep one linear chain; the owning feature fills it in.
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
