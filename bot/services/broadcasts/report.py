"""The delivery report of one announcement: queued / sent / failed (with reasons) / skipped, per agency.

Chunks count their recipients (the agency of each is kept in the chunk); outbox rows (personalised, or
channels without multicast) are counted in one grouped query joined to the employee's agency. People
the audience selected who could not be reached at all (not bound, opted out) were counted when it was
sent and are reported as skipped. Opens and clicks come from the paid channel's statistics of the
announcement's aggregation unit, where it gives them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.broadcasts import Broadcast, BroadcastChunk
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.services.broadcasts.plan import Insights
from bot.services.broadcasts.sending import batch_of

STATES = ("queued", "sent", "failed", "skipped")


def _state(status: str) -> str:
    return {"pending": "queued", "sending": "queued", "cancelled": "skipped"}.get(status, status)


@dataclass
class Report:
    """Where an announcement stands."""

    broadcast: Broadcast
    totals: Counter[str] = field(default_factory=Counter)
    by_agency: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    reasons: Counter[str] = field(default_factory=Counter)
    stats: dict[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        """The report as ``broadcast report --json`` prints it."""
        b = self.broadcast
        return {"id": b.id, "status": b.status, "audience": b.audience, "created_by": b.created_by,
                "created_at": b.created_at.isoformat(), "send_at": b.send_at.isoformat(),
                "personalised": b.personalised, "counts": b.counts,
                "totals": {s: self.totals.get(s, 0) for s in STATES},
                "by_agency": {a: {s: c.get(s, 0) for s in STATES} for a, c in sorted(self.by_agency.items())},
                "failure_reasons": dict(self.reasons), "statistics": self.stats}

    def rows(self) -> list[list[str]]:
        """A table for CSV/XLSX: agency, then one column per state."""
        return [["agency", *STATES]] + [[a, *(str(c.get(s, 0)) for s in STATES)]
                                        for a, c in sorted(self.by_agency.items())] + \
            [["total", *(str(self.totals.get(s, 0)) for s in STATES)]]


async def build_report(session: AsyncSession, broadcast: Broadcast, *, insights: Insights | None = None,
                       today: date | None = None) -> Report:
    """Count the announcement's deliveries (chunks and outbox rows) per state and agency."""
    report = Report(broadcast)
    chunks = (await session.execute(select(BroadcastChunk.status, BroadcastChunk.recipients, BroadcastChunk.last_error)
                                    .where(BroadcastChunk.broadcast_id == broadcast.id))).all()
    for status, recipients, error in chunks:
        state = _state(status)
        for _acc, _ext, agency in recipients:
            report.totals[state] += 1
            report.by_agency[agency][state] += 1
        if state == "failed":
            report.reasons[error or "unknown"] += len(recipients)
    rows = (await session.execute(
        select(OutboxMessage.status, OutboxMessage.last_error, Employee.agency, func.count())
        .join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
        .join(Employee, Employee.id == ChannelAccount.employee_id, isouter=True)
        .where(OutboxMessage.batch_id == batch_of(broadcast.id))
        .group_by(OutboxMessage.status, OutboxMessage.last_error, Employee.agency))).all()
    for status, error, agency, count in rows:
        state = _state(status)
        report.totals[state] += count
        report.by_agency[agency or ""][state] += count
        if state in ("failed", "skipped") and error:
            report.reasons[error] += count
    for reason, count in (broadcast.counts.get("unreachable") or {}).items():
        report.totals["skipped"] += count
        report.reasons[reason] += count
    for agency, reasons in (broadcast.counts.get("unreachable_by_agency") or {}).items():
        report.by_agency[agency]["skipped"] += sum(reasons.values())  # older announcements: in the totals only
    if insights is not None and broadcast.status != "cancelled":
        start = broadcast.send_at.date()
        report.stats = await insights.unit_stats(broadcast.unit, start, max(today or start, start))
    return report
