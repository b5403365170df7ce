"""Queueing messages that are not replies (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import Runtime
from bot.conversation import Reply
from bot.db.channel_accounts import get_or_create_account
from bot.db.models.core import OutboxMessage
from bot.services.accounts import bind_console_account
from bot.services.notices import (
    MissingRenderer,
    Notice,
    NoticeTo,
    Notifier,
    OutboxRow,
    StatusCounts,
    delivery_report,
    enqueue,
    enqueue_many,
    outbox,
    require_renderers,
)
from tests.classes.conftest import add_people


@contextmanager
def inserts_into_outbox(engine: AsyncEngine) -> Iterator[list[str]]:
    """The INSERT statements sent to the outbox table while the block runs."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


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


def _echo(notice: Notice, lang: str) -> list[Reply]:
    return [Reply.plain(f"{lang}:{notice.kind}:{notice.values.get('n', '')}")]


async def test_notify_reaches_each_bound_account_once(app: Runtime) -> None:
    now = app.clock.now()
    notifier = Notifier(_echo)
    async with app.sessions.begin() as s:
        console = await bind_console_account(s, "T0002", lang="zh-TW", now=now)
        line = await get_or_create_account(s, "line", "Uo2", lang="zh-TW", now=now)
        line.employee_id = console.employee_id
        await s.flush()
        told = [NoticeTo(console.employee_id or 0, Notice("test.hello"), "n1")]
        assert await notifier.notify(s, told, now=now) == 2
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("n1:")))).scalars()
        assert sorted(r.channel for r in rows) == ["console", "line"]
        assert await notifier.notify(s, told, now=now) == 0
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 2


async def test_many_rows_are_one_insert_and_a_batch_reports_per_kind(app: Runtime) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as s:
        reachable = await get_or_create_account(s, "line", "Uo3", lang="zh-TW", now=now)
        blocked = await get_or_create_account(s, "line", "Uo4", lang="en", now=now)
        blocked.reachable = False
        await s.flush()
        rows = [OutboxRow.to_account(reachable if n % 4 else blocked, [Reply.plain(f"m{n}")], dedupe_key=f"b{n}",
                                     kind="test.even" if n % 2 == 0 else "test.odd", batch_id="B1")
                for n in range(200)]
        with inserts_into_outbox(app.engine) as inserts:
            assert await enqueue_many(s, rows, now=now) == 200
        assert len(inserts) == 1 and "ON CONFLICT" in inserts[0].upper()
        again = [*rows[:50], OutboxRow.to_account(reachable, [], dedupe_key="other", kind="test.odd")]
        assert await enqueue_many(s, again, now=now) == 1          # only the new key
        report = await delivery_report(s, "B1")
        everything = await delivery_report(s)
    assert report.overall == StatusCounts(pending=150, skipped=50)
    assert report.by_kind == {"test.even": StatusCounts(pending=50, skipped=50), "test.odd": StatusCounts(pending=100)}
    assert everything.overall.total == 201 and everything.by_kind["test.odd"].pending == 101
    async with app.sessions() as s:
        skipped = (await s.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == "b0"))).scalar_one()
    assert (skipped.status, skipped.last_error, skipped.kind, skipped.batch_id) == (
        "skipped", "unreachable", "test.even", "B1")


async def test_rows_past_the_parameter_limit_go_in_several_statements(app: Runtime,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "MAX_PARAMETERS", 12 * 40)  # 40 rows of 12 columns per statement
    now = app.clock.now()
    async with app.sessions.begin() as s:
        account = await get_or_create_account(s, "line", "Uo5", lang="zh-TW", now=now)
        rows = [OutboxRow.to_account(account, [], dedupe_key=f"c{n}") for n in range(100)]
        with inserts_into_outbox(app.engine) as inserts:
            assert await enqueue_many(s, [*rows, *rows[:10]], now=now) == 100
    assert len(inserts) == 3


async def test_notify_renders_once_per_language_and_notice(app: Runtime) -> None:
    now = app.clock.now()
    calls: list[tuple[str, str]] = []

    def render(notice: Notice, lang: str) -> list[Reply]:
        calls.append((notice.kind, lang))
        return _echo(notice, lang)

    people = await add_people(app, 4)
    async with app.sessions.begin() as s:
        for n, lang in enumerate(["zh-TW", "en", "zh-TW", "en"]):
            account = await get_or_create_account(s, "line", f"Ur{n}", lang=lang, now=now)
            account.employee_id = people[n]
        await s.flush()
        same = Notice("test.same", {"n": 1})
        told = [NoticeTo(people[n], same, f"same:{n}") for n in range(4)]
        told += [NoticeTo(people[0], Notice("test.same", {"n": 2}), "other:1")]
        assert await Notifier(render).notify(s, told, now=now, batch_id="B2") == 5
        payloads = {r.dedupe_key: r.payload[0]["text"] for r in (await s.execute(
            select(OutboxMessage).where(OutboxMessage.batch_id == "B2"))).scalars()}
    assert sorted(calls) == [("test.same", "en"), ("test.same", "zh-TW"), ("test.same", "zh-TW")]
    assert payloads == {"same:0:line": "zh-TW:test.same:1", "same:1:line": "en:test.same:1",
                        "same:2:line": "zh-TW:test.same:1", "same:3:line": "en:test.same:1",
                        "other:1:line": "zh-TW:test.same:2"}


def test_a_notice_is_a_dotted_kind_with_json_values() -> None:
    notice = Notice("classes.promoted", {"class": {"meetings": (("a", "b"),)}})
    assert notice.values == {"class": {"meetings": [["a", "b"]]}}  # as a stored notice would hold it
    with pytest.raises(ValueError, match="dotted"):
        Notice("promoted")
    with pytest.raises(TypeError):
        Notice("classes.promoted", {"when": object()})


def test_a_kind_without_a_renderer_stops_the_start() -> None:
    require_renderers(["classes.promoted"], {"classes.promoted": _echo})
    with pytest.raises(MissingRenderer, match=r"classes\.gone, hours\.due"):
        require_renderers(["classes.promoted", "hours.due", "classes.gone"], {"classes.promoted": _echo})
