"""Queueing messages that are not replies (both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.conversation import Reply
from bot.db.channel_accounts import get_or_create_account
from bot.db.models.core import OutboxMessage
from bot.services.accounts import bind_console_account
from bot.services.notices import enqueue, enqueue_for_employee


async def test_enqueue_is_idempotent_and_skips_unreachable(app: Runtime) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as s:
        account = await get_or_create_account(s, "line", "Uo1", lang="zh-TW", now=now)
        first = await enqueue(s, account, [Reply.plain("hi")], dedupe_key="k1", now=now)
        again = await enqueue(s, account, [Reply.plain("hi")], dedupe_key="k1", now=now)
        assert first is not None and again is None
        account.reachable = False
        gone = await enqueue(s, account, [Reply.plain("hi")], dedupe_key="k2", now=now)
        assert gone is not None and gone.status == "skipped"
    async with app.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    assert [r.status for r in rows] == ["pending", "skipped"]
    assert rows[0].retry_key != rows[1].retry_key
    assert Reply.from_dict(rows[0].payload[0]).text == "hi"


async def test_enqueue_for_employee_reaches_each_bound_account_once(app: Runtime) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as s:
        console = await bind_console_account(s, "T0002", lang="zh-TW", now=now)
        line = await get_or_create_account(s, "line", "Uo2", lang="zh-TW", now=now)
        line.employee_id = console.employee_id
        await s.flush()
        rows = await enqueue_for_employee(s, console.employee_id or 0, [Reply.plain("x")], dedupe_key="n1", now=now)
        assert sorted(r.channel for r in rows) == ["console", "line"]
        assert await enqueue_for_employee(s, console.employee_id or 0, [Reply.plain("x")],
                                          dedupe_key="n1", now=now) == []
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 2
