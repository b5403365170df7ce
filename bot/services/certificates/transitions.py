"""Every change of a claim's status, each as one named function; nothing else assigns ``status``.

The pattern of ``bot.services.classes.transitions``: the allowed pairs are data (:data:`TRANSITIONS`, beside
the CHECK constraint's ``CLAIM_STATUSES``), one function per change sets the status with its columns, and a
pair outside the table raises :class:`InvalidTransition` (a bug, never a user's mistake).

Changes that can race (HR deciding, the employee withdrawing) are one guarded ``UPDATE … WHERE status =
'pending'``: of two officers deciding at once exactly one row is updated; the other gets ``False`` and is
told it was already decided. No ``SELECT … FOR UPDATE`` (a no-op on SQLite)::

    (none) ──open_draft──▶ draft ──submit──▶ pending ──decide──▶ approved | rejected   (final)
                            │                  │
                            └──withdraw────────┴──▶ withdrawn
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.certificates import CertificateClaim

Status = Literal["draft", "pending", "approved", "rejected", "withdrawn"]

TRANSITIONS: frozenset[tuple[str | None, Status]] = frozenset({
    (None, "draft"), ("draft", "pending"), ("draft", "withdrawn"), ("pending", "withdrawn"),
    ("pending", "approved"), ("pending", "rejected"),
})
"""The allowed ``(from, to)`` pairs; ``None`` is a claim that does not exist yet."""

OPEN: tuple[Status, ...] = ("draft", "pending")


class InvalidTransition(RuntimeError):
    """A status change the rules do not allow was attempted (a programming error)."""


def _check(was: str | None, to: Status) -> None:
    if (was, to) not in TRANSITIONS:
        raise InvalidTransition(f"claim: {was} → {to} is not allowed")


def open_draft(*, employee_id: int, agency: str, plan_year: int, sha256: str, size: int, photo_type: str,
               source_type: str, now: datetime) -> CertificateClaim:
    """A new claim from a validated, stored photo; the wizard fills in the facts."""
    _check(None, "draft")
    return CertificateClaim(employee_id=employee_id, agency=agency, status="draft", plan_year=plan_year,
                            photo_sha256=sha256, photo_size=size, photo_type=photo_type, source_type=source_type,
                            created_at=now, updated_at=now)


def submit(row: CertificateClaim, *, scheme: str, test_id: str, level_label: str | None, scores: str | None,
           grade: str, tier_level: str, tier_rank: int, reward: str, dated: date, window_end: date,
           now: datetime) -> None:
    """The employee confirmed an eligible claim: the facts and the expected reward, now pending for HR."""
    _check(row.status, "pending")
    row.status = "pending"
    row.scheme, row.test_id, row.level_label, row.scores, row.grade = scheme, test_id, level_label, scores, grade
    row.tier_level, row.tier_rank, row.reward = tier_level, tier_rank, reward
    row.dated, row.window_end = dated, window_end
    row.submitted_at = row.updated_at = now


async def withdraw(session: AsyncSession, claim_id: int, employee_id: int, now: datetime) -> bool:
    """The employee takes back their own draft or pending claim; False when it is no longer open (decided)."""
    for was in OPEN:
        _check(was, "withdrawn")
    result = await session.execute(
        update(CertificateClaim)
        .where(CertificateClaim.id == claim_id, CertificateClaim.employee_id == employee_id,
               CertificateClaim.status.in_(OPEN))
        .values(status="withdrawn", withdrawn_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def decide(session: AsyncSession, claim_id: int, *, approve: bool, by_id: int, reason: str | None,
                 now: datetime) -> bool:
    """HR's final decision, guarded on ``pending``: True for the one officer whose UPDATE changed the row."""
    to: Status = "approved" if approve else "rejected"
    _check("pending", to)
    result = await session.execute(
        update(CertificateClaim)
        .where(CertificateClaim.id == claim_id, CertificateClaim.status == "pending")
        .values(status=to, decided_at=now, decided_by_id=by_id, reject_reason=None if approve else reason,
                updated_at=now)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]
