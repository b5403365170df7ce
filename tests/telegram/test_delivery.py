"""Outbox rows to Telegram accounts: paced fan-out, blocked users skipped, at most once after a lost answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.channels.telegram_client import FAN_OUT, Pacing
from bot.conversation import Reply
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.services.notices import DeliveryWorker, enqueue
from tests.conftest import issue_code
from tests.line import webhooks as line_wh
from tests.line.conftest import no_sleep
from tests.line.fake_line import FakeLine
from tests.telegram.conftest import Harness
from tests.telegram.dialog import TgDialog


async def tg_account(tg: Harness, uid: int) -> ChannelAccount:
    async with tg.app.sessions.begin() as s:
        account = ChannelAccount(channel="telegram", external_id=str(uid), lang="zh-TW", state=None, state_data={},
                                 reachable=True, created_at=tg.app.clock.now(), last_seen_at=tg.app.clock.now())
        s.add(account)
    return account


async def queue(tg: Harness, account: ChannelAccount, key: str, *texts: str) -> None:
    async with tg.app.sessions.begin() as s:
        acc = await s.get(ChannelAccount, account.id)
        assert acc is not None
        await enqueue(s, acc, [Reply.plain(t) for t in texts], dedupe_key=key, now=tg.app.clock.now())


async def row_status(tg: Harness, key: str) -> tuple[str, str | None]:
    async with tg.app.sessions() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))).scalar_one()
        return row.status, row.last_error


async def test_outbox_rows_reach_telegram_accounts_in_order(tg: Harness) -> None:
    account = await tg_account(tg, 4001)
    await queue(tg, account, "n1", "第一則 <通知> & 說明")
    await queue(tg, account, "n2", "第二則")
    assert await tg.worker.run_until_idle() == {"sent": 2}
    texts = [c.text for c in tg.fake.sent("sendMessage", 4001)]
    assert texts == ["第一則 &lt;通知&gt; &amp; 說明", "第二則"]
    assert await row_status(tg, "n1") == ("sent", None)


async def test_a_blocked_user_is_skipped_and_marked_unreachable(tg: Harness) -> None:
    account = await tg_account(tg, 4002)
    await queue(tg, account, "b1", "a")
    await queue(tg, account, "b2", "b")
    tg.fake.fail("sendMessage", "blocked")
    assert await tg.worker.run_until_idle() == {"skipped": 2}
    assert len([c for c in tg.fake.calls if c.method == "sendMessage"]) == 1  # the second was never tried
    async with tg.app.sessions() as s:
        assert (await s.get(ChannelAccount, account.id)).reachable is False  # type: ignore[union-attr]


async def test_a_lost_answer_is_not_sent_again_by_any_later_attempt(tg: Harness) -> None:
    account = await tg_account(tg, 4003)
    await queue(tg, account, "t1", "seat freed", "second part")
    tg.fake.fail("sendMessage", "drop")
    assert await tg.worker.run_until_idle() == {"failed": 1}
    status, error = await row_status(tg, "t1")
    assert status == "failed" and "at most once" in (error or "")
    async with tg.app.sessions.begin() as s:  # an operator (or a dead worker's lease) makes it due again
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == "t1"))).scalar_one()
        row.status, row.attempts = "pending", 0
    assert await tg.worker.run_until_idle() == {"sent": 1}
    assert [c.text for c in tg.fake.sent("sendMessage", 4003)] == ["seat freed", "second part"]  # each once


async def test_429_on_a_row_waits_retry_after_and_a_500_is_retried_later(tg: Harness) -> None:
    account = await tg_account(tg, 4004)
    await queue(tg, account, "r1", "hello")
    tg.fake.fail("sendMessage", (429, 2))
    assert await tg.worker.run_until_idle() == {"sent": 1}
    assert 2.0 <= tg.waits[0] <= 2.2
    await queue(tg, account, "r2", "again")
    tg.fake.fail("sendMessage", 500, 500, 500, 500)
    assert await tg.worker.run_until_idle() == {"retry": 1}
    assert (await row_status(tg, "r2"))[0] == "pending"


async def test_fan_out_is_paced_per_chat_and_replies_are_not() -> None:
    pacing = Pacing(overall=1000, per_chat=1)
    calls: list[str] = []

    async def call(name: str) -> bool:
        calls.append(name)
        return True

    await pacing.process_request(call, ("reply",), {}, "sendMessage", {"chat_id": 5}, None)
    await pacing.process_request(call, ("fan-out",), {}, "sendMessage", {"chat_id": 5}, FAN_OUT)
    assert calls == ["reply", "fan-out"]
    assert list(pacing._chats) == ["5"]  # only the paced call went through the per-chat limiter
    assert not pacing._chats["5"].has_capacity(1)  # a second message to that chat now waits ~1 s


@pytest.fixture
async def fake_line() -> AsyncIterator[FakeLine]:
    server = await FakeLine().start()
    yield server
    await server.stop()


async def test_an_employee_on_line_and_telegram_gets_the_promotion_once_on_each(tg: Harness,
                                                                              fake_line: FakeLine) -> None:
    app = tg.app
    code = await issue_code(app, "T0002")  # T0002 waits for a seat in 我要成為時間管理大師
    colleague = TgDialog(tg, 4100)
    await colleague.play([up_say(f"/start bind_{code.replace('-', '')}"), up_say("T0002", shows=["綁定完成"])])
    async with app.sessions.begin() as s:
        t0002 = (await s.execute(select(Employee).where(Employee.employee_no == "T0002"))).scalar_one()
        s.add(ChannelAccount(channel="line", external_id=line_wh.user_id(41), lang="zh-TW", state=None,
                             state_data={}, reachable=True, created_at=app.clock.now(), last_seen_at=app.clock.now(),
                             employee_id=t0002.id))
    code1 = await issue_code(app, "T0001")
    me = TgDialog(tg, 4101)
    from tests.dialog import Press, Say
    await me.play([
        Say(f"/start bind_{code1.replace('-', '')}"), Say("T0001", shows=["綁定完成"]),
        Say("取消報名", shows=["確定要取消「我要成為時間管理大師"]),
        Press("確定取消", shows=["候補同仁遞補"]),
    ])
    line_sender = LineSender(LineClient(line_wh.TOKEN, fake_line.url), tg.metrics, sleep=no_sleep)
    worker = DeliveryWorker(app.sessions, app.clock, {"telegram": tg.sender, "line": line_sender})
    try:
        summary = await worker.run_until_idle()
        assert summary == {"sent": 2}, summary
        again = await worker.run_until_idle()
        assert again == {}
    finally:
        await line_sender.client.close()
    [telegram_notice] = [c for c in tg.fake.sent("sendMessage", 4100) if "好消息" in c.text]
    assert "我要成為時間管理大師" in telegram_notice.text
    [line_push] = fake_line.sent("push")
    assert line_push.json["to"] == line_wh.user_id(41) and "好消息" in str(line_push.json["messages"])


def up_say(text: str, shows: list[str] | None = None) -> object:
    from tests.dialog import Say

    return Say(text, shows=shows or [])


async def test_an_announcement_with_a_link_and_a_picture_reaches_telegram_as_a_url_button_and_a_photo(
        tg: Harness) -> None:
    from bot.services.broadcasts import Content

    account = await tg_account(tg, 4010)
    content = Content("新班開放報名", link="https://elearn.example.tw/c/1", link_label="報名網頁",
                      image_url="https://bot.example.tw/media/announcements/a.jpg")
    replies = tg.app.app.deps.notices.render(content.notice(optional=True), "zh-TW")
    async with tg.app.sessions.begin() as s:
        acc = await s.get(ChannelAccount, account.id)
        assert acc is not None
        await enqueue(s, acc, replies, dedupe_key="bc1", now=tg.app.clock.now())
    assert await tg.worker.run_until_idle() == {"sent": 1}
    [text] = tg.fake.sent("sendMessage", 4010)
    [photo] = tg.fake.sent("sendPhoto", 4010)
    assert "新班開放報名" in text.text
    rows = text.params["reply_markup"]["inline_keyboard"]
    assert rows[0] == [{"text": "報名網頁", "url": "https://elearn.example.tw/c/1"}]
    assert rows[1][0]["callback_data"] == "ao|1"  # HR marked it optional: the way to turn such ones off
    assert photo.params["photo"] == "https://bot.example.tw/media/announcements/a.jpg"
