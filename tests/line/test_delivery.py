"""The outbox delivery worker (both databases): claiming, exactly-once delivery, backoff, final states."""

from __future__ import annotations

import asyncio
import io
import json
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from bot.bootstrap import Runtime
from bot.channels.console import run_console
from bot.clock import FrozenClock
from bot.conversation import Reply
from bot.db.channel_accounts import get_or_create_account
from bot.db.models.core import ChannelAccount, OutboxMessage
from bot.services.accounts import bind_console_account
from bot.services.notices import DeliveryError, DeliveryWorker, Recipient, RecipientUnreachable, enqueue
from tests.line import webhooks as wh
from tests.line.conftest import Harness


class Recorder:
    """A sender that records deliveries and can be told to fail."""

    def __init__(self, fail_with: list[Exception] | None = None) -> None:
        self.delivered: Counter[str] = Counter()
        self.texts: list[str] = []
        self.fail_with = fail_with or []
        self.changed = asyncio.Event()  # set after each delivery

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        await asyncio.sleep(0)  # let the other worker run in between
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.delivered[retry_key] += 1
        self.texts.extend(r.text for r in replies)
        self.changed.set()


async def queue(app: Runtime, count: int, channel: str = "line", users: int = 5) -> list[int]:
    now = app.clock.now()
    ids = []
    async with app.sessions.begin() as s:
        accounts = [await get_or_create_account(s, channel, wh.user_id(f"d{i}"), lang="zh-TW", now=now)
                    for i in range(users)]
        for n in range(count):
            row = await enqueue(s, accounts[n % users], [Reply.plain(f"notice {n}")], dedupe_key=f"k{n}", now=now)
            assert row is not None
            ids.append(row.id)
    return ids


async def statuses(app: Runtime) -> Counter[str]:
    async with app.sessions() as s:
        return Counter((await s.execute(select(OutboxMessage.status))).scalars())


async def test_two_workers_deliver_every_row_exactly_once(app: Runtime) -> None:
    await queue(app, 60)
    sender = Recorder()
    workers = [DeliveryWorker(app.sessions, app.clock, {"line": sender}, batch_size=7, worker_id=f"w{i}")
               for i in range(2)]
    results = await asyncio.gather(*(w.run_until_idle() for w in workers))
    assert sum(r.get("sent", 0) for r in results) == 60
    assert all(r.get("sent", 0) > 0 for r in results), "both workers took part"
    assert len(sender.delivered) == 60 and set(sender.delivered.values()) == {1}
    assert await statuses(app) == Counter({"sent": 60})


async def test_rows_of_one_user_go_in_order(app: Runtime) -> None:
    await queue(app, 12, users=1)
    sender = Recorder()
    await DeliveryWorker(app.sessions, app.clock, {"line": sender}, batch_size=5).run_until_idle()
    assert sender.texts == [f"notice {n}" for n in range(12)]


async def test_temporary_failure_backs_off_on_the_clock_then_delivers(app: Runtime, clock: FrozenClock) -> None:
    [row_id] = await queue(app, 1)
    sender = Recorder([DeliveryError("LINE push status 500", retry=True)])
    worker = DeliveryWorker(app.sessions, app.clock, {"line": sender})
    assert await worker.run_once() == {"retry": 1}
    assert await worker.run_once() == {}  # not due yet: nothing is sent before the backoff ends
    clock.advance(worker.backoff(1) * 1.3)
    assert await worker.run_once() == {"sent": 1}
    async with app.sessions() as s:
        row = await s.get(OutboxMessage, row_id)
    assert row is not None and row.status == "sent" and row.attempts == 2 and row.sent_at == clock.now()


async def test_gives_up_after_max_attempts_with_the_reason(app: Runtime, clock: FrozenClock) -> None:
    [row_id] = await queue(app, 1)
    sender = Recorder([DeliveryError("LINE push status 429", retry=True)] * 3)
    worker = DeliveryWorker(app.sessions, app.clock, {"line": sender}, max_attempts=3)
    for _ in range(3):
        await worker.run_once()
        clock.advance(worker.max_backoff * 2)
    async with app.sessions() as s:
        row = await s.get(OutboxMessage, row_id)
    assert row is not None and row.status == "failed" and row.last_error == "LINE push status 429"
    assert row.attempts == 3 and sender.delivered == Counter()


async def test_permanent_failure_and_unreachable_users(app: Runtime) -> None:
    ids = await queue(app, 3, users=3)
    async with app.sessions.begin() as s:
        row = await s.get(OutboxMessage, ids[2])
        assert row is not None
        await s.execute(update(ChannelAccount).where(ChannelAccount.id == row.account_id).values(reachable=False))
    sender = Recorder([DeliveryError("LINE push status 400: Bad Request", retry=False), RecipientUnreachable()])
    summary = await DeliveryWorker(app.sessions, app.clock, {"line": sender}).run_until_idle()
    assert summary == {"failed": 1, "skipped": 2}
    async with app.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    assert [(r.status, r.last_error) for r in rows] == [
        ("failed", "LINE push status 400: Bad Request"), ("skipped", "unreachable"), ("skipped", "unreachable")]


async def test_a_row_left_sending_by_a_dead_worker_is_taken_again_after_the_lease(app: Runtime,
                                                                                  clock: FrozenClock) -> None:
    await queue(app, 1)
    dead = DeliveryWorker(app.sessions, app.clock, {"line": Recorder()}, worker_id="dead")
    assert len(await dead.claim()) == 1  # claimed, then the process died
    survivor = DeliveryWorker(app.sessions, app.clock, {"line": (sender := Recorder())})
    assert await survivor.run_once() == {}
    clock.advance(survivor.lease + timedelta(seconds=1))
    assert await survivor.run_once() == {"sent": 1}
    assert len(sender.delivered) == 1


async def test_workers_only_take_their_channels_and_accounts(app: Runtime) -> None:
    await queue(app, 2, channel="telegram")
    assert await DeliveryWorker(app.sessions, app.clock, {"line": Recorder()}).run_until_idle() == {}
    assert await statuses(app) == Counter({"pending": 2})


async def test_line_push_through_the_fake_api_is_sent_once_despite_a_lost_answer(line: Harness,
                                                                                 clock: FrozenClock) -> None:
    [row_id] = await queue(line.app, 1)
    line.fake.fail("push", 500, accept_first=True)
    assert await line.worker.run_once() == {"retry": 1}
    clock.advance(line.worker.max_backoff * 2)
    assert await line.worker.run_once() == {"sent": 1}
    pushes = [r for r in line.fake.requests if r.path.endswith("/push")]
    assert [r.status for r in pushes] == [500, 409]
    async with line.app.sessions() as s:
        row = await s.get(OutboxMessage, row_id)
    assert row is not None and {p.retry_key for p in pushes} == {row.retry_key}
    assert pushes[0].json["messages"] == [{"type": "text", "text": "notice 0"}]


async def test_background_worker_delivers_what_is_queued_and_stops_cleanly(app: Runtime) -> None:
    sender = Recorder()
    worker = DeliveryWorker(app.sessions, app.clock, {"line": sender})
    worker.start()
    await queue(app, 3)
    worker.wake()  # as enqueuing code does; the loop (not this test) must deliver

    async def three_delivered() -> None:
        while sum(sender.delivered.values()) < 3:
            sender.changed.clear()
            await sender.changed.wait()

    await asyncio.wait_for(three_delivered(), 10)
    await worker.stop()
    assert sum(sender.delivered.values()) == 3
    assert await worker.run_until_idle() == {}  # nothing was left for anyone else


async def test_console_chat_prints_notices_without_breaking_its_json_contract(app: Runtime) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as s:
        account = await bind_console_account(s, "T0001", lang="zh-TW", now=now)
        await enqueue(s, account, [Reply.plain("您已從候補轉為正取")], dedupe_key="promote:1", now=now)
        other = await bind_console_account(s, "T0002", lang="zh-TW", now=now)
        await enqueue(s, other, [Reply.plain("not for T0001")], dedupe_key="promote:2", now=now)
    out, err = io.StringIO(), io.StringIO()
    await run_console(app, "T0001", json_mode=True, stdin=io.StringIO("help\n課程\n"), out=out, err=err)
    objects = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [o["input"] for o in objects] == ["help", "課程"]
    [notice] = [json.loads(line) for line in err.getvalue().splitlines()]
    assert notice["notice"]["replies"][0]["text"] == "您已從候補轉為正取"
    assert await statuses(app) == Counter({"sent": 1, "pending": 1})  # T0002's waits for T0002


async def test_console_text_mode_shows_the_notice(app: Runtime) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as s:
        account = await bind_console_account(s, "T0001", lang="zh-TW", now=now)
        await enqueue(s, account, [Reply.plain("您已從候補轉為正取")], dedupe_key="promote:3", now=now)
    out = io.StringIO()
    await run_console(app, "T0001", json_mode=False, stdin=io.StringIO("help\n"), out=out, err=io.StringIO())
    assert "【通知】\n您已從候補轉為正取" in out.getvalue()
