"""The batched ledger of webhook event ids (both databases): each id is handled exactly once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.db.events import EventLedger
from bot.db.models.core import ProcessedEvent


def ledger(app: Runtime) -> EventLedger:
    return EventLedger(app.sessions, app.engine.dialect.name, app.clock.now)


async def test_each_id_is_claimed_once_within_and_across_batches(app: Runtime) -> None:
    first = ledger(app)
    ids = [f"ev{i}" for i in range(50)]
    claims = await asyncio.gather(*(first.claim("line", i) for i in ids + ids[:10]))
    assert claims[:50] == [True] * 50 and claims[50:] == [False] * 10  # a repeat in the same batch loses
    assert await first.claim("line", "ev3") is False                     # a later redelivery too
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ProcessedEvent))).scalar_one() == 50


async def test_two_processes_racing_for_the_same_ids_split_them(app: Runtime) -> None:
    one, two = ledger(app), ledger(app)                                   # two server processes
    ids = [f"race{i}" for i in range(40)]
    results = await asyncio.gather(*(book.claim("line", i) for i in ids for book in (one, two)))
    assert sum(results) == 40                                             # each id won by exactly one
    assert all(a != b for a, b in zip(results[::2], results[1::2], strict=True))


async def test_ids_are_kept_per_channel_and_cut_to_the_column(app: Runtime) -> None:
    book = ledger(app)
    assert await book.claim("line", "same") and await book.claim("telegram", "same")
    long_id = "x" * 300
    assert await book.claim("line", long_id) is True
    assert await book.claim("line", long_id) is False  # an over-long id still fits the column and dedupes


async def test_ids_older_than_the_cut_off_are_forgotten_and_newer_ones_kept(app: Runtime) -> None:
    from datetime import timedelta

    from bot.db.events import forget_events, record_event

    now = app.clock.now()
    async with app.sessions.begin() as s:
        for age_days, event_id in ((8, "old-1"), (7.5, "old-2"), (6, "kept-1"), (0, "kept-2")):
            await record_event(s, "line", event_id, now - timedelta(days=age_days))
    async with app.sessions.begin() as s:
        assert await forget_events(s, before=now - timedelta(days=7)) == 2
    async with app.sessions() as s:
        left = set((await s.execute(select(ProcessedEvent.event_id))).scalars())
    assert left == {"kept-1", "kept-2"}
