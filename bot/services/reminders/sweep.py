"""The sweep: every source decides what is due up to an instant; the rows land in the outbox once.

:meth:`Reminders.sweep` is all a scheduler job does. For each source it reads the source's watermark
(the instant up to which its moments were decided; at most ``catch_up_hours`` back), asks the source
for the reminders whose moment lies in ``(watermark, at]``, leaves out the people who opted out of its
category, and queues the rest through the :class:`~bot.services.notices.Notifier`: a reminder still
useful is pending (held to the end of quiet hours), one whose usefulness ended while nothing ran is
recorded ``skipped`` with the reason. Rows and the new watermark commit together, and every row has its
dedupe key: the same instant swept twice, two schedulers, or a sweep killed half-way and run again
queue each reminder once. An explicit ``since`` (the CLI's ``--at``) ignores the watermark.

Keys end with ``:<employee_id>`` (before the notifier's ``:<channel>``), which the delivery-time check
reads to see a later opt-out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.db.models.reminders import ReminderOptOut, ReminderWatermark
from bot.services.notices import NoticeTo, Notifier, OutboxRow, enqueue_many
from bot.services.reminders.source import Due, ReminderSource, SweepContext

StillTrue = Callable[[AsyncSession, str, Sequence[str], datetime], Coroutine[Any, Any, Mapping[str, str]]]
"""``(session, kind, dedupe_keys, now) -> {dedupe_key: reason}``: the delivery worker's check of a claimed
batch before it goes (the keys no longer worth sending, and why)."""


@dataclass(frozen=True)
class Planned:
    """One outbox row a sweep would write, with whom it is for (``reminders due``)."""

    row: OutboxRow
    employee_no: str


@dataclass(frozen=True)
class SweepResult:
    """What a sweep queued (new rows) per kind, and how many of them were recorded skipped."""

    queued: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every new row."""
        return sum(self.queued.values()) + sum(self.skipped.values())


@dataclass(frozen=True)
class Reminders:
    """The registry of reminder sources and how to sweep them (built once at start-up)."""

    ctx: SweepContext
    notifier: Notifier
    sources: Sequence[ReminderSource]

    @property
    def kinds(self) -> list[str]:
        """Every notice kind the sources build."""
        return [k for s in self.sources for k in s.kinds]

    def checks(self) -> dict[str, StillTrue]:
        """The delivery worker's "still true?" check per kind: the source's own, and a later opt-out."""
        out: dict[str, StillTrue] = {}
        for source in self.sources:
            for kind in source.kinds:
                out[kind] = _checker(source)
        return out

    async def _window(self, session: AsyncSession, source: ReminderSource, at: datetime,
                      since: datetime | None) -> datetime:
        floor = at - timedelta(hours=self.ctx.settings.catch_up_hours)
        if since is not None:
            return since
        mark = await session.get(ReminderWatermark, source.name)
        return floor if mark is None or mark.swept_until < floor else mark.swept_until

    async def decide(self, session: AsyncSession, at: datetime, *, since: datetime | None = None,
                     ) -> tuple[list[Due], dict[str, str]]:
        """Every reminder due at ``at`` (opt-outs left out), and the keys of those no longer useful → reason."""
        decided: list[Due] = []
        skips: dict[str, str] = {}
        for source in self.sources:
            start = await self._window(session, source, at, since)
            if start >= at:
                continue
            dues = await source.due(session, self.ctx, start, at)
            if not dues:
                continue
            out = await opted_out(session, source.category, {d.employee_id for d in dues})
            for d in dues:
                if d.employee_id in out:
                    continue
                decided.append(d)
                if d.useful_until <= at:
                    skips[d.dedupe_key] = "moment passed while the scheduler was not running"
        return decided, skips

    async def coming(self, session: AsyncSession, employee_id: int, now: datetime,
                     within: timedelta) -> list[tuple[Due, OutboxRow]]:
        """The reminders one employee will get in ``(now, now + within]``, rendered, soonest first (我的提醒)."""
        dues: list[Due] = []
        for source in self.sources:
            if not await opted_out(session, source.category, {employee_id}):
                dues += await source.due(session, self.ctx, now, now + within, only=employee_id)
        dues.sort(key=lambda d: d.moment)
        rows = await self.notifier.rows(session, [NoticeTo(d.employee_id, d.notice, d.dedupe_key) for d in dues])
        by_key = {d.dedupe_key: d for d in dues}
        return [(by_key[r.dedupe_key.rsplit(":", 1)[0]], r) for r in rows]

    async def sweep(self, session: AsyncSession, at: datetime, *, since: datetime | None = None) -> SweepResult:
        """Queue what is due at ``at`` in the caller's transaction and move the watermarks to ``at``."""
        decided, skips = await self.decide(session, at, since=since)
        rows = await self._rows(session, decided, skips, at)
        new = await _enqueue_counting(session, rows, at)
        for source in self.sources:
            await _advance(session, source.name, at)
        return new

    async def plan(self, session: AsyncSession, at: datetime, *, since: datetime | None = None) -> list[Planned]:
        """What :meth:`sweep` would queue at ``at`` and is not queued yet, writing nothing."""
        decided, skips = await self.decide(session, at, since=since)
        rows = await self._rows(session, decided, skips, at)
        known = await _existing(session, [r.dedupe_key for r in rows])
        fresh = [r for r in rows if r.dedupe_key not in known]
        numbers = dict((await session.execute(
            select(ChannelAccount.id, Employee.employee_no).join(Employee, Employee.id == ChannelAccount.employee_id)
            .where(ChannelAccount.id.in_(sorted({r.account_id for r in fresh}))))).all()) if fresh else {}
        return [Planned(r, numbers.get(r.account_id, "")) for r in fresh]

    async def _rows(self, session: AsyncSession, decided: list[Due], skips: Mapping[str, str],
                    at: datetime) -> list[OutboxRow]:
        quiet = self.ctx.quiet
        holds = {d.dedupe_key: quiet.defer(max(d.moment, at)) for d in decided
                 if quiet.covers(d.notice.kind) and d.dedupe_key not in skips}
        return await self.notifier.rows(session, [NoticeTo(d.employee_id, d.notice, d.dedupe_key) for d in decided],
                                        skip_reasons=skips, not_befores=holds)


def _checker(source: ReminderSource) -> StillTrue:
    """One batch's check: a later opt-out (one query), then the source's own (``still_true_many`` if it has it)."""
    many = getattr(source, "still_true_many", None)

    async def check(session: AsyncSession, kind: str, dedupe_keys: Sequence[str], now: datetime) -> dict[str, str]:
        employees: dict[str, int] = {}
        for key in dedupe_keys:  # outbox keys: <reminder key ending :<employee_id>>:<channel>
            parts = key.split(":")
            if len(parts) >= 3 and parts[-2].isdigit():
                employees[key] = int(parts[-2])
        out = await opted_out(session, source.category, set(employees.values()))
        reasons = {key: "opted out" for key, employee_id in employees.items() if employee_id in out}
        rest = [key for key in dedupe_keys if key not in reasons]
        if many is not None:
            reasons.update(await many(session, kind, rest, now))
        else:
            for key in rest:
                reason = await source.still_true(session, kind, key, now)
                if reason is not None:
                    reasons[key] = reason
        return reasons
    return check


async def opted_out(session: AsyncSession, category: str, employee_ids: set[int]) -> set[int]:
    """Those of ``employee_ids`` who switched ``category`` off in 提醒設定."""
    if not employee_ids:
        return set()
    if len(employee_ids) <= 1000:  # a delivery check, 我的提醒, a class: look up just these
        rows = await session.execute(select(ReminderOptOut.employee_id).where(
            ReminderOptOut.category == category, ReminderOptOut.employee_id.in_(sorted(employee_ids))))
        return set(rows.scalars())
    rows = await session.execute(select(ReminderOptOut.employee_id).where(ReminderOptOut.category == category))
    return {r for r in rows.scalars() if r in employee_ids}


async def _enqueue_counting(session: AsyncSession, rows: list[OutboxRow], at: datetime) -> SweepResult:
    """Write the rows, one ``enqueue_many`` per (kind, queued or skipped): its count of new rows is the figure."""
    groups: dict[tuple[str, bool], list[OutboxRow]] = {}
    for r in rows:
        groups.setdefault((r.kind or "", bool(r.skip_reason) or not r.reachable), []).append(r)
    queued: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for (kind, skip), group in groups.items():
        new = await enqueue_many(session, group, now=at)
        if new:
            (skipped if skip else queued)[kind] += new
    return SweepResult(dict(queued), dict(skipped))


async def _existing(session: AsyncSession, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        found.update((await session.execute(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(keys[start:start + 5000])))).scalars())
    return found


async def _advance(session: AsyncSession, source: str, at: datetime) -> None:
    """Move a source's watermark forward to ``at`` (never back), racing schedulers included."""
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    stmt = insert(ReminderWatermark).values(source=source, swept_until=at)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[ReminderWatermark.source], set_={"swept_until": stmt.excluded.swept_until},
        where=ReminderWatermark.swept_until < stmt.excluded.swept_until))
