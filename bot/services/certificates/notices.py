"""The notices the certificate feature sends (what happened, as JSON values; the handlers layer writes them).

- ``certificates.decided``: HR approved or rejected a claim (the claimant's language, through the outbox);
- ``certificates.window_closing``: a started claim's window closes in N days (:mod:`.reminders`);
- ``certificates.hr_digest``: HR's daily digest of claims pending longer than N days (:mod:`.reminders`).
"""

from __future__ import annotations

from bot.db.models.certificates import CertificateClaim
from bot.services.notices import Notice

DECIDED = "certificates.decided"
WINDOW_CLOSING = "certificates.window_closing"
HR_DIGEST = "certificates.hr_digest"
NOTICE_KINDS = (DECIDED, WINDOW_CLOSING, HR_DIGEST)


def facts(row: CertificateClaim) -> dict[str, object]:
    """A claim as a notice describes it (no photo, no personal data beyond the claimant's own facts)."""
    return {"claim_id": row.id, "test_id": row.test_id, "level_label": row.level_label, "scores": row.scores,
            "tier_level": row.tier_level, "reward": row.reward,
            "dated": row.dated.isoformat() if row.dated else None,
            "window_end": row.window_end.isoformat() if row.window_end else None}


def decided(row: CertificateClaim, *, approved: bool, reason: str | None, test_title: str,
            test_title_en: str) -> Notice:
    """The claimant is told HR's decision (with the test's names, which the notice's reader cannot look up)."""
    return Notice(DECIDED, {**facts(row), "approved": approved, "reason": reason, "test_title": test_title,
                            "test_title_en": test_title_en})


def window_closing(row: CertificateClaim, days: int) -> Notice:
    """A draft's claim window closes in ``days`` days."""
    return Notice(WINDOW_CLOSING, {**facts(row), "days": days})


def hr_digest(count: int, oldest_days: int, agencies: list[str]) -> Notice:
    """An HR officer's pending claims older than the digest's threshold."""
    return Notice(HR_DIGEST, {"count": count, "oldest_days": oldest_days, "agencies": agencies})
