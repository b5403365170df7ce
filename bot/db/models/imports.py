"""Import batches: every bulk change HR makes (an import, a deleted record) and, row by row, what it changed.

A batch row says what was imported, by whom and when, with its counts; its change rows keep each touched
row of a tracked table as it was before and as the batch left it, which is enough to list the batch and
to undo it exactly (``abc-bot import history`` / ``abc-bot import undo``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

BATCH_KINDS = ("roster", "hours", "classes", "attendance", "hours_delete")
BATCH_STATUSES = ("applied", "undone")
CHANGE_ACTIONS = ("insert", "update", "delete")


class ImportBatch(Base):
    """One bulk change: its kind, file, who and when, counts, and whether it was undone."""

    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint(f"kind IN ({','.join(repr(k) for k in BATCH_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({','.join(repr(s) for s in BATCH_STATUSES)})", name="status"),
        Index("ix_import_batches_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64), default="")
    file: Mapped[str] = mapped_column(String(500), default="")
    digest: Mapped[str] = mapped_column(String(64), default="")
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="applied")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(64))


class ImportChange(Base):
    """One row a batch inserted, updated or deleted: the whole row before and after (JSON, by column name)."""

    __tablename__ = "import_changes"
    __table_args__ = (
        CheckConstraint(f"action IN ({','.join(repr(a) for a in CHANGE_ACTIONS)})", name="action"),
        Index("ix_import_changes_row", "table_name", "row_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
