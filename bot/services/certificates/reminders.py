"""Reminders of the certificate feature, as pure service functions the scheduler calls (no sending here).

- :func:`claim_window_reminders`: employees who started a claim (a draft whose date they gave) but did
  not submit, when its window closes in exactly one of ``reminders.window_closing_days`` days;
- :func:`hr_pending_digest`: each HR officer (agency HR of the claim's agency, city admins: every agency)
  whose reviewable claims include some pending longer than ``reminders.hr_pending_older_than_days``.

Both return :class:`~bot.services.notices.NoticeTo` lists keyed so a second run on the same day queues
nothing new; the caller passes them to ``Notifier.notify``. A draft's reminder also marks the row
(``reminded_days``), so a missed day does not send an older, larger N later.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.accounts import EmployeeRole
from bot.db.models.certificates import CertificateClaim
from bot.services.accounts import AGENCY_HR
from bot.services.certificates import notices
from bot.services.certificates.claims import today_in_taipei
from bot.services.certificates.settings import CertificateSettings
from bot.services.notices import NoticeTo


async def claim_window_reminders(session: AsyncSession, settings: CertificateSettings, now: datetime) -> list[NoticeTo]:
    """"Your claim window closes in N days" for unsubmitted drafts (module docstring); marks each draft reminded."""
    today = today_in_taipei(now)
    days = sorted(set(settings.reminders.window_closing_days))
    if not days:
        return []
    rows = (await session.execute(select(CertificateClaim).where(
        CertificateClaim.status == "draft", CertificateClaim.window_end.is_not(None),
        CertificateClaim.window_end >= today, CertificateClaim.window_end <= today + timedelta(days=max(days)))
    )).scalars()
    out: list[NoticeTo] = []
    for row in rows:
        assert row.window_end is not None
        left = (row.window_end - today).days
        if left not in days or (row.reminded_days is not None and row.reminded_days <= left):
            continue
        row.reminded_days = left
        out.append(NoticeTo(row.employee_id, notices.window_closing(row, left), f"cert-window:{row.id}:{left}"))
    await session.flush()
    return out


async def hr_pending_digest(session: AsyncSession, settings: CertificateSettings, now: datetime) -> list[NoticeTo]:
    """One digest per HR officer with pending claims older than the threshold (module docstring)."""
    threshold = now - timedelta(days=settings.reminders.hr_pending_older_than_days)
    old = (await session.execute(select(CertificateClaim.agency, CertificateClaim.submitted_at).where(
        CertificateClaim.status == "pending", CertificateClaim.submitted_at < threshold))).all()
    if not old:
        return []
    by_agency: dict[str, list[datetime]] = {}
    for agency, at in old:
        assert at is not None
        by_agency.setdefault(agency, []).append(at)
    roles = (await session.execute(select(EmployeeRole.employee_id, EmployeeRole.role, EmployeeRole.agency))).all()
    officers: dict[int, set[str]] = {}
    for employee_id, role, agency in roles:
        covered = set(by_agency) if role != AGENCY_HR else ({agency} & set(by_agency))
        if covered:
            officers.setdefault(employee_id, set()).update(covered)
    day = today_in_taipei(now).isoformat()
    out = []
    for employee_id, agencies in sorted(officers.items()):
        times = [t for a in agencies for t in by_agency[a]]
        oldest = max((now - t).days for t in times)
        out.append(NoticeTo(employee_id, notices.hr_digest(len(times), oldest, sorted(agencies)),
                            f"cert-digest:{employee_id}:{day}"))
    return out
