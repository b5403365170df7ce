"""Deadline reminders: 30, 14, 7 and 1 days (``reminders.yaml``) before each deadline of ``rules.yaml``.

Only people with a gap are told: for the mandatory deadline (9/30) the mandatory buckets, for the year's
(12/31) every bucket. Each reminder says what is missing per bucket and what fills it (the 樂桃e學園
package for the mandatory hours; classes open for registration in the missing buckets). One grouped
SUM over the learning records of the people who have a chat account decides them all; the reminder of
one offset stays useful until the next offset's moment, and is checked again before it is delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db.models.classes import TrainingClass
from bot.db.models.core import ChannelAccount, Employee
from bot.db.models.hours import LearningRecord
from bot.services.catalog import RulesFile
from bot.services.classes import ClassFacts
from bot.services.hours import bucket_status
from bot.services.notices import Notice
from bot.services.reminders.source import Due, SweepContext, at_local, chunks, key_parts

DEADLINE = "reminders.deadline"


def deadline_moments(ctx: SweepContext) -> list[tuple[str, int, datetime, datetime, bool]]:
    """Every (deadline id, days before, moment, useful until, mandatory only) of the plan year."""
    out = []
    times = ctx.settings.deadlines
    for d in ctx.rules.deadlines:
        end = at_local(d.date + timedelta(days=1), time(0))
        offsets = sorted(times.days_before, reverse=True)
        for i, days in enumerate(offsets):
            moment = at_local(d.date - timedelta(days=days), times.at)
            until = at_local(d.date - timedelta(days=offsets[i + 1]), times.at) if i + 1 < len(offsets) else end
            out.append((d.id, days, moment, until, d.covers == "mandatory"))
    return out


def gaps(rules: RulesFile, done: dict[str, Decimal], *, mandatory_only: bool) -> dict[str, str]:
    """Hours missing per bucket (as exact decimal strings), only the buckets the deadline covers."""
    return {b.id: str(b.remaining) for b in bucket_status(rules, done)
            if b.remaining > 0 and (b.mandatory or not mandatory_only)}


async def hours_done(session: AsyncSession, plan_year: int, buckets: Sequence[str],
                     employee_ids: Sequence[int] | None = None) -> dict[int, dict[str, Decimal]]:
    """Credited hours per employee in each of ``buckets``: one SUM grouped by employee (only these when given).

    One row per employee with a column per bucket (``SUM(CASE WHEN bucket = … THEN hours END)``), not a
    row per employee and bucket: for 30,000 people × 40 records that is 30,000 rows instead of 120,000,
    and half the database's time (PostgreSQL's hash aggregate no longer spills to disk). It runs on the
    session's connection (Core), without the ORM's per-row result work. Other buckets are not summed
    (the rules read only their own).
    """
    sums = [func.sum(case((LearningRecord.bucket == b, LearningRecord.hours))) for b in buckets]
    stmt = (select(LearningRecord.employee_id, *sums)
            .where(LearningRecord.plan_year == plan_year, LearningRecord.credited.is_(True))
            .group_by(LearningRecord.employee_id))
    if employee_ids is not None:
        stmt = stmt.where(LearningRecord.employee_id.in_(list(employee_ids)))
    out: dict[int, dict[str, Decimal]] = {}
    for employee_id, *totals in (await (await session.connection()).execute(stmt)).all():
        out[employee_id] = {b: t if isinstance(t, Decimal) else Decimal(t)
                            for b, t in zip(buckets, totals, strict=True) if t is not None}
    return out


class DeadlineReminders:
    """What is still missing before a deadline, to each person with a gap."""

    name = "deadline"
    category = "deadline"
    kinds: Sequence[str] = (DEADLINE,)

    async def due(self, session: AsyncSession, ctx: SweepContext, since: datetime, until: datetime, *,
                  only: int | None = None) -> list[Due]:
        """Deadline reminders whose moment falls in ``(since, until]``."""
        moments = [m for m in deadline_moments(ctx) if since < m[2] <= until]
        if not moments:
            return []
        exempt = set(ctx.rules.hours.exempt_ranks)
        who = select(Employee.id, Employee.rank).where(Employee.active.is_(True),
                                                       Employee.id.in_(select(ChannelAccount.employee_id)))
        if only is not None:
            who = who.where(Employee.id == only)
        people = [(e_id, rank) for e_id, rank in (await (await session.connection()).execute(who)).all()
                  if (rank or "").strip() not in exempt]
        done = await hours_done(session, ctx.rules.year, [b.id for b in ctx.rules.hours.buckets],
                                None if only is None else [only])
        suggestions = await self._open_classes(session, ctx, until)
        out = []
        # the rule is applied once per distinct set of sums: hours come in few sizes, so 30,000 people
        # have a few hundred distinct sets at most
        decided: dict[tuple[bool, tuple[tuple[str, Decimal], ...]], dict[str, str]] = {}
        for deadline_id, days, moment, useful_until, mandatory_only in moments:
            notices: dict[tuple[tuple[str, str], ...], Notice] = {}
            for employee_id, _rank in people:
                sums = done.get(employee_id, {})
                memo = (mandatory_only, tuple(sorted(sums.items())))
                missing = decided.get(memo)
                if missing is None:
                    missing = decided[memo] = gaps(ctx.rules, sums, mandatory_only=mandatory_only)
                if not missing:
                    continue
                shape = tuple(sorted(missing.items()))
                notice = notices.get(shape)
                if notice is None:
                    values: dict[str, Any] = {
                        "deadline": deadline_id, "days": days, "missing": missing, "package": mandatory_only,
                        "classes": [c for b in missing for c in suggestions.get(b, [])][:ctx.settings.deadlines
                                                                                        .suggestions]}
                    notice = notices[shape] = Notice(DEADLINE, values)
                out.append(Due(employee_id, notice, f"{DEADLINE}:{deadline_id}.{days}:{employee_id}", moment,
                               useful_until))
        return out

    @staticmethod
    async def _open_classes(session: AsyncSession, ctx: SweepContext, now: datetime) -> dict[str, list[Any]]:
        """A few classes open for registration per bucket, closing soonest first (as notice JSON)."""
        rows = (await session.execute(
            select(TrainingClass).options(selectinload(TrainingClass.meetings))
            .where(TrainingClass.plan_year == ctx.rules.year, TrainingClass.status == "open",
                   TrainingClass.opens_at <= now, TrainingClass.closes_at > now)
            .order_by(TrainingClass.closes_at).limit(50))).scalars().all()
        out: dict[str, list[Any]] = {}
        for cls in rows:
            bucket = out.setdefault(cls.bucket, [])
            if len(bucket) < ctx.settings.deadlines.suggestions:
                bucket.append(ClassFacts.of(cls).to_json())
        return out

    def __init__(self, rules: RulesFile | None = None) -> None:
        self.rules = rules
        """The rules the delivery-time check reads (the sweep passes its own through the context)."""

    async def still_true(self, session: AsyncSession, kind: str, dedupe_key: str, now: datetime) -> str | None:
        """Skipped when the hours the deadline covers were completed since the reminder was queued."""
        return (await self.still_true_many(session, kind, [dedupe_key], now)).get(dedupe_key)

    async def still_true_many(self, session: AsyncSession, kind: str, dedupe_keys: Sequence[str],
                              now: datetime) -> dict[str, str]:
        """:meth:`still_true` of many keys (``<kind>:<deadline>.<days>:<employee>``): one grouped SUM."""
        if self.rules is None:
            return {}
        mandatory = {d.id: d.covers == "mandatory" for d in self.rules.deadlines}
        keys: dict[str, tuple[bool, int]] = {}
        for key in dedupe_keys:
            parts = key.split(":")
            ids = key_parts(":".join([parts[0], parts[2]]), 1) if len(parts) >= 3 else None
            deadline_id = parts[1].rsplit(".", 1)[0] if len(parts) >= 3 else ""
            if ids is not None and deadline_id in mandatory:
                keys[key] = (mandatory[deadline_id], ids[0])
        done: dict[int, dict[str, Decimal]] = {}
        buckets = [b.id for b in self.rules.hours.buckets]
        for part in chunks(e for _, e in keys.values()):
            done.update(await hours_done(session, self.rules.year, buckets, part))
        return {key: "hours completed" for key, (mandatory_only, employee_id) in keys.items()
                if not gaps(self.rules, done.get(employee_id, {}), mandatory_only=mandatory_only)}
