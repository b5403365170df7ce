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
