"""Sending an announcement (now or at a time), cancelling a scheduled one, listing them.

Never twice: identical text goes out as :class:`~bot.db.models.broadcasts.BroadcastChunk` rows (≤ 500
LINE ids of one language each, each with its own retry key kept on the row: a chunk sent again after a
crash is answered 409 by LINE); personalised text as one outbox row per chat account (the outbox's
dedupe key ``broadcast:<id>:<employee>:<channel>`` and per-row retry key). Other channels (no multicast)
get outbox rows for identical text too. Every row waits for ``next_attempt_at = send_at``, which the
workers honour, so a scheduled announcement needs no scheduler job and survives restarts.

Quiet hours (``data/notices.yaml``): a time given with ``--at`` inside them is refused, naming the
earliest allowed time; "send now" during them is moved to their end (and says so).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.broadcasts import Broadcast, BroadcastChunk
from bot.db.models.core import OutboxMessage
from bot.services.accounts import Scope, record
from bot.services.broadcasts.audience import parse_audience, scope_problem
from bot.services.broadcasts.plan import Plan, Refused, person_of
from bot.services.catalog import RulesFile
from bot.services.notices import NoticeTo, Notifier, OutboxRow, enqueue_many
from bot.services.notices.quiet import QuietHours

MULTICAST_SIZE = 500
"""LINE: at most 500 user ids per multicast call."""
MULTICAST_CHANNELS = frozenset({"line"})


def unit_of(broadcast_id: int) -> str:
    """LINE's custom aggregation unit of an announcement: ``^[a-zA-Z0-9_]{1,30}$`` (LINE refuses a hyphen)."""
    return f"abc_bc_{broadcast_id}"


def batch_of(broadcast_id: int) -> str:
    """The outbox ``batch_id`` of an announcement's rows."""
    return f"broadcast:{broadcast_id}"


@dataclass(frozen=True)
class Sent:
    """What :func:`send` did."""

    broadcast: Broadcast
    moved: bool
    """True when "now" fell in quiet hours and the announcement waits for their end."""
    chunks: int
    rows: int


def when(at: datetime | None, *, now: datetime, quiet: QuietHours) -> tuple[datetime, bool]:
    """The instant to send at and whether it was moved out of quiet hours.

    Raises:
        Refused: ``at`` is in the past or inside quiet hours.
    """
    if at is None:
        moved = quiet.defer(now)
        return moved, moved != now
    if at < now:
        raise Refused("the time to send at is in the past")
    if quiet.contains(at):
        raise Refused(f"{at.isoformat(timespec='minutes')} is inside quiet hours; the earliest is "
                      f"{quiet.defer(at).isoformat(timespec='minutes')}")
    return at, False


async def send(session: AsyncSession, plan: Plan, *, actor: str, actor_employee_id: int | None, now: datetime,
               notifier: Notifier, quiet: QuietHours, at: datetime | None = None, force: bool = False,
               multicast: Collection[str] = MULTICAST_CHANNELS) -> Sent:
    """Queue ``plan``'s announcement in the caller's transaction; audited.

    Raises:
        Refused: nobody reachable, over the quota without ``force``, or a time refused by :func:`when`.
    """
    if not plan.recipients:
        raise Refused("nobody in this audience can be reached in chat")
    if plan.over_quota and not force:
        remaining = plan.quota.remaining if plan.quota else None
        raise Refused(f"this costs {plan.cost} LINE messages but only {remaining} are left this month; "
                      "send it with --force to go over the quota")
    send_at, moved = when(at, now=now, quiet=quiet)
    content = plan.content
    row = Broadcast(created_at=now, created_by=actor[:64], actor_employee_id=actor_employee_id,
                    audience=plan.audience.spec[:500], text=content.text, text_en=content.text_en,
                    link_url=content.link, link_label=content.link_label,
                    image_url=content.image_url, image_preview_url=content.image_preview_url,
                    optional=plan.optional, personalised=content.personalised,
                    send_at=send_at, status="scheduled" if send_at > now else "queued", unit="", counts=plan.counts())
    session.add(row)
    await session.flush()
    row.unit = unit_of(row.id)
    chunks = rows = 0
    people = [m for m in plan.members if not m.opted_out and m.reachable]
    if content.personalised:
        told = [NoticeTo(m.employee_id, content.notice(person_of(m), optional=plan.optional),
                         f"{batch_of(row.id)}:{m.employee_id}") for m in people]
        rows = await notifier.notify(session, told, now=now, batch_id=batch_of(row.id), not_before=send_at)
    else:
        groups: dict[tuple[str, str], list[list[object]]] = defaultdict(list)
        outbox: list[OutboxRow] = []
        payloads: dict[str, list[dict[str, object]]] = {}
        notice = content.notice(optional=plan.optional)
        for m in people:
            for acc in m.reachable:
                lang = "en" if acc.lang == "en" and content.text_en else "zh-TW"
                if acc.channel in multicast:
                    groups[(acc.channel, lang)].append([acc.id, acc.external_id, m.agency])
                else:
                    payload = payloads.get(lang)
                    if payload is None:
                        payload = payloads[lang] = [r.to_dict() for r in notifier.render(notice, lang)]
                    outbox.append(OutboxRow(acc.id, acc.channel, True, payload,
                                            f"{batch_of(row.id)}:{m.employee_id}:{acc.channel}", notice.kind,
                                            batch_of(row.id), send_at))
        values = [{"broadcast_id": row.id, "channel": channel, "lang": lang, "retry_key": str(uuid.uuid4()),
                   "recipients": ids[i:i + MULTICAST_SIZE], "size": len(ids[i:i + MULTICAST_SIZE]),
                   "status": "pending", "attempts": 0, "next_attempt_at": send_at}
                  for (channel, lang), ids in sorted(groups.items()) for i in range(0, len(ids), MULTICAST_SIZE)]
        if values:
            await session.execute(insert(BroadcastChunk), values)
        chunks = len(values)
        rows = await enqueue_many(session, outbox, now=now) if outbox else 0
    counts = plan.counts()
    await record(session, actor=actor, actor_employee_id=actor_employee_id, action="broadcasts.send",
                 target=f"broadcast {row.id}", allowed=True, now=now,
                 detail=f"{plan.audience.spec[:120]} recipients={counts['recipients']} cost={counts['cost']}")
    return Sent(row, moved, chunks, rows)


async def audit_refusal(session: AsyncSession, *, actor: str, actor_employee_id: int | None, action: str,
                        spec: str, reason: str, now: datetime) -> None:
    """Record a refused preview or send in the admin audit (the SPEC and the reason; no counts)."""
    await record(session, actor=actor, actor_employee_id=actor_employee_id, action=action, target=spec[:200],
                 allowed=False, now=now, detail=reason[:200])


async def get_broadcast(session: AsyncSession, broadcast_id: int, *, scope: Scope, rules: RulesFile) -> Broadcast:
    """An announcement the scope covers.

    Raises:
        Refused: no such announcement, or one outside the scope (said the same way: nothing leaks).
    """
    row = await session.get(Broadcast, broadcast_id)
    if row is None or scope_problem(parse_audience(row.audience, rules), scope):
        raise Refused(f"there is no announcement {broadcast_id} you may see")
    return row


async def cancel(session: AsyncSession, broadcast_id: int, *, scope: Scope, rules: RulesFile, actor: str,
                 actor_employee_id: int | None, now: datetime) -> Broadcast:
    """Cancel a scheduled announcement that has not started; audited.

    Raises:
        Refused: not found or not the scope's, already cancelled, or its sending has begun.
    """
    row = await get_broadcast(session, broadcast_id, scope=scope, rules=rules)
    if row.status == "cancelled":
        raise Refused(f"announcement {broadcast_id} is already cancelled")
    if row.send_at <= now:
        raise Refused(f"announcement {broadcast_id} is already being sent; it cannot be cancelled")
    started = (await session.execute(select(BroadcastChunk.id).where(
        BroadcastChunk.broadcast_id == row.id, BroadcastChunk.status != "pending").limit(1))).first()
    if started is not None:
        raise Refused(f"announcement {broadcast_id} is already being sent; it cannot be cancelled")
    await session.execute(update(BroadcastChunk).where(BroadcastChunk.broadcast_id == row.id,
                                                       BroadcastChunk.status == "pending")
                          .values(status="cancelled").execution_options(synchronize_session=False))
    await session.execute(update(OutboxMessage).where(OutboxMessage.batch_id == batch_of(row.id),
                                                      OutboxMessage.status == "pending")
                          .values(status="skipped", last_error="cancelled")
                          .execution_options(synchronize_session=False))
    row.status, row.cancelled_at, row.cancelled_by = "cancelled", now, actor[:64]
    await record(session, actor=actor, actor_employee_id=actor_employee_id, action="broadcasts.cancel",
                 target=f"broadcast {row.id}", allowed=True, now=now)
    return row


async def list_broadcasts(session: AsyncSession, *, scope: Scope, rules: RulesFile,
                          limit: int = 100) -> list[Broadcast]:
    """The latest announcements the scope covers, newest first."""
    rows = (await session.execute(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))).scalars().all()
    return [r for r in rows if not scope_problem(parse_audience(r.audience, rules), scope)]
