"""The Telegram webhook through the real python-telegram-bot and the web server, against the fake Bot API."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db.models.core import ChannelAccount, ProcessedEvent
from tests.telegram import updates as up
from tests.telegram.conftest import Harness


async def count(tg: Harness, model: type) -> int:
    async with tg.app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_start_initialises_with_getme_and_a_text_gets_an_html_answer(tg: Harness) -> None:
    assert tg.fake.calls[0].method == "getMe"
    assert await tg.post(up.text(1001, "課程")) == 200
    [answer] = tg.fake.sent("sendMessage", 1001)
    assert answer.params["parse_mode"] == "HTML"
    assert ("A｜打磨必備職能", "t|A") in answer.buttons
    assert tg.metrics.tg_updates.value("text", "ok") == 1


async def test_missing_or_wrong_secret_is_403_and_nothing_is_processed(tg: Harness) -> None:
    before, accounts = len(tg.fake.calls), await count(tg, ChannelAccount)
    update = up.text(1002, "課程")
    assert await tg.post(update, secret=None) == 403
    assert await tg.post(update, secret="wrong-secret") == 403
    assert await tg.post(update, secret=up.SECRET + "x") == 403
    assert tg.new_calls(before) == []
    assert await count(tg, ChannelAccount) == accounts and await count(tg, ProcessedEvent) == 0
    assert tg.metrics.tg_rejected.value("secret") == 3


async def test_oversized_and_malformed_bodies_are_refused(tg: Harness) -> None:
    before = len(tg.fake.calls)
    assert await tg.post(up.text(1003, "x" * (300 * 1024))) == 413

    async def stream() -> object:
        yield b'{"update_id": 1, "message": {"text": "' + b"y" * (2 * 1024 * 1024) + b'"}}'

    async with tg.http.post(tg.url, data=stream(),
                            headers={"X-Telegram-Bot-Api-Secret-Token": up.SECRET}) as response:
        assert response.status == 413  # no Content-Length: cut off while reading
    assert await tg.post(raw=b'{"update_id": ') == 400
    assert await tg.post(raw=b'["not an update"]') == 400
    assert tg.new_calls(before) == [] and await count(tg, ProcessedEvent) == 0
    assert tg.metrics.tg_rejected.value("too_large") == 2 and tg.metrics.tg_rejected.value("malformed") == 2


async def test_a_redelivered_update_id_is_answered_once(tg: Harness) -> None:
    update = up.text(1004, "時間管理")
    for _ in range(3):
        assert await tg.post(update) == 200
    assert len(tg.fake.sent("sendMessage", 1004)) == 1
    assert tg.metrics.tg_updates.value("text", "duplicate") == 2
    async with tg.app.sessions() as s:
        ids = (await s.execute(select(ProcessedEvent.event_id).where(ProcessedEvent.channel == "telegram"))).scalars()
        assert list(ids) == [str(update["update_id"])]


async def test_a_group_gets_one_line_and_the_bot_leaves(tg: Harness) -> None:
    group = up.group_chat()
    before = len(tg.fake.calls)
    assert await tg.post(up.member_status(1005, "member", chat=group)) == 200  # the bot was added
    assert await tg.post(up.text(1005, "/start", chat=group)) == 200
    calls = tg.new_calls(before)
    assert [c.method for c in calls] == ["sendMessage", "leaveChat", "sendMessage", "leaveChat"]
    assert "一對一" in calls[0].text and calls[1].params["chat_id"] == group["id"]
    assert await count(tg, ChannelAccount) == 0 or not await _has_account(tg, 1005)


async def _has_account(tg: Harness, uid: int) -> bool:
    async with tg.app.sessions() as s:
        query = select(ChannelAccount).where(ChannelAccount.external_id == str(uid))
        return (await s.execute(query)).first() is not None


async def test_a_blocked_user_is_marked_unreachable_and_unblocking_restores_them(tg: Harness) -> None:
    assert await tg.post(up.text(1006, "課程")) == 200
    tg.fake.fail("sendMessage", "blocked")
    assert await tg.post(up.text(1006, "python")) == 200  # the answer meets the block
    assert len([c for c in tg.fake.calls if c.method == "sendMessage" and c.status == 403]) == 1  # not retried
    assert not await _reachable(tg, 1006)
    assert await tg.post(up.member_status(1006, "member")) == 200
    assert await _reachable(tg, 1006)
    assert await tg.post(up.member_status(1006, "kicked")) == 200
    assert not await _reachable(tg, 1006)


async def test_chat_not_found_also_marks_the_account_unreachable(tg: Harness) -> None:
    assert await tg.post(up.text(1007, "課程")) == 200
    tg.fake.fail("sendMessage", "chat_not_found")
    assert await tg.post(up.text(1007, "python")) == 200
    assert not await _reachable(tg, 1007)


async def _reachable(tg: Harness, uid: int) -> bool:
    async with tg.app.sessions() as s:
        return bool((await s.execute(select(ChannelAccount.reachable).where(
            ChannelAccount.channel == "telegram", ChannelAccount.external_id == str(uid)))).scalar_one())


async def test_429_waits_the_retry_after_telegram_names_then_sends_once(tg: Harness) -> None:
    tg.fake.fail("sendMessage", (429, 3), 500)
    assert await tg.post(up.text(1008, "課程")) == 200
    statuses = [c.status for c in tg.fake.calls if c.method == "sendMessage"]
    assert statuses == [429, 500, 200]
    assert 3.0 <= tg.waits[0] <= 3.3  # what Telegram asked, not the 0.5 s backoff
    assert tg.waits[-1] < 2.0  # the 500 that followed asked nothing: the doubling backoff
    assert tg.metrics.tg_api_failures.value("sendMessage", "429") == 1


async def test_an_answer_lost_in_a_dropped_connection_is_not_sent_again(tg: Harness) -> None:
    tg.fake.fail("sendMessage", "drop")
    assert await tg.post(up.text(1009, "課程")) == 200
    assert len(tg.fake.sent("sendMessage", 1009)) == 1  # taken once, never repeated
    assert tg.metrics.tg_updates.value("text", "send_failed") == 1


async def test_metrics_page_has_the_telegram_series(tg: Harness) -> None:
    assert await tg.post(up.text(1010, "課程")) == 200
    async with tg.http.get(tg.url.replace("/webhooks/telegram", "/metrics")) as response:
        page = await response.text()
    assert 'abc_telegram_updates_total{type="text",result="ok"} 1' in page
    assert 'abc_http_requests_total{path="/webhooks/telegram",status="200"} 1' in page
