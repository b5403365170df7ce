"""Retention: a claim's photo file is deleted ``MEDIA_RETENTION_DAYS`` after the decision (the claim stays).

A file is deleted only when no claim still needs it: the same photo (one hash) sent for two claims is one
file, kept while either is open or within its retention. Withdrawn claims count from their withdrawal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.certificates import CertificateClaim
from bot.services.certificates.storage import MediaStore


async def purge_photos(session: AsyncSession, store: MediaStore, *, days: int, now: datetime) -> int:
    """Delete the files of claims decided (or withdrawn) more than ``days`` ago; returns how many files went."""
    cutoff = now - timedelta(days=days)
    ended = func.coalesce(CertificateClaim.decided_at, CertificateClaim.withdrawn_at)
    due = (await session.execute(select(CertificateClaim.photo_sha256).where(
        CertificateClaim.photo_deleted_at.is_(None), CertificateClaim.status.in_(("approved", "rejected", "withdrawn")),
        ended < cutoff).distinct())).scalars().all()
    if not due:
        return 0
    still = set((await session.execute(select(CertificateClaim.photo_sha256).where(
        CertificateClaim.photo_sha256.in_(due),
        (CertificateClaim.status.in_(("draft", "pending"))) | (ended >= cutoff)))).scalars())
    gone = [h for h in due if h not in still]
    for sha in gone:
        store.delete(sha)
    if gone:
        await session.execute(update(CertificateClaim).where(CertificateClaim.photo_sha256.in_(gone),
                                                             CertificateClaim.photo_deleted_at.is_(None))
                              .values(photo_deleted_at=now).execution_options(synchronize_session=False))
    return len(gone)
