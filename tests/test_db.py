"""The data layer on SQLite and PostgreSQL: migrations, accounts, state, catalog mirror, time zones."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Runtime, build_app
from bot.clock import FrozenClock
from bot.conversation import IncomingMessage
from bot.db import migrate
from bot.db.channel_accounts import get_or_create_account
from bot.db.models.core import CatalogRow, ChannelAccount, Employee
from bot.services.catalog import sync_catalog
from bot.services.demo import seed_demo
from tests.conftest import base_settings, drop_pg_connections


async def test_schema_is_at_every_head(app: Runtime) -> None:
    assert await migrate.current_revisions(app.engine) == migrate.head_revisions()


def test_heads_read_from_the_revision_files_are_alembics() -> None:
    """Start-up reads the heads without importing Alembic; Alembic's own graph must agree."""
    assert migrate.head_revisions() == migrate.alembic_heads()
    assert migrate.head_revisions()  # never empty: an empty set would make every start migrate


async def test_catalog_mirror_and_demo_roster_are_idempotent(app: Runtime) -> None:
    async with app.sessions.begin() as s:
        rows = (await s.execute(select(func.count()).select_from(CatalogRow))).scalar_one()
        assert rows == len(app.catalog)
        assert await sync_catalog(s, app.catalog, now=app.clock.now()) == 0
        assert await seed_demo(s, app.settings.data_dir, now=app.clock.now(), deps=app.app.deps) == 0
        demo = (await s.execute(select(Employee).where(Employee.employee_no == "T0001"))).scalar_one()
        assert demo.is_demo and "範例" in demo.name


async def test_concurrent_first_messages_create_one_account(app: Runtime) -> None:
    async def first_contact() -> int:
        async with app.sessions.begin() as s:
            account = await get_or_create_account(s, "line", "Urace", lang="zh-TW", now=app.clock.now())
            return account.id

    ids = await asyncio.gather(*(first_contact() for _ in range(8)))
    assert len(set(ids)) == 1
    async with app.sessions() as s:
        count = (await s.execute(select(func.count()).select_from(ChannelAccount)
                                 .where(ChannelAccount.external_id == "Urace"))).scalar_one()
    assert count == 1


async def test_state_and_language_survive_a_restart(db_url: str, clock: FrozenClock) -> None:
    first = await build_app(base_settings(db_url), clock=clock, demo=True)
    try:
        await first.dispatcher.handle(IncomingMessage.from_text("line", "Ustate", "English"))
        await first.dispatcher.handle(IncomingMessage.from_text("line", "Ustate", "AI"))
    finally:
        await first.close()
    second = await build_app(base_settings(db_url), clock=clock)
    try:
        from handlers.search import query_tag

        payload = f"mo|5|{query_tag('AI')}"
        more = await second.dispatcher.handle(IncomingMessage.from_payload("line", "Ustate", payload))
        assert more.intent == "search"
        assert "Results 6" in more.replies[0].text  # the saved query and language were used
    finally:
        await second.close()


async def test_datetimes_come_back_aware_utc(app: Runtime) -> None:
    taipei = timezone(timedelta(hours=8))
    at = datetime(2024, 9, 30, 23, 59, 59, tzinfo=taipei)
    async with app.sessions.begin() as s:
        account = await get_or_create_account(s, "line", "Utz", lang="zh-TW", now=at)
        account_id = account.id
    async with app.sessions() as s:
        loaded = (await s.execute(select(ChannelAccount).where(ChannelAccount.id == account_id))).scalar_one()
    assert loaded.created_at == at and loaded.created_at.tzinfo is not None
    assert loaded.created_at.astimezone(UTC).hour == 15


async def test_naive_datetimes_are_refused(app: Runtime) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with app.sessions.begin() as s:
            await get_or_create_account(s, "line", "Unaive", lang="zh-TW", now=datetime(2024, 1, 1))


async def test_a_failing_handler_rolls_back_and_apologises(app: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(ctx: object, msg: object, arg: str) -> object:
        ctx.account.lang = "en"  # type: ignore[attr-defined]
        raise RuntimeError("boom")

    from bot.conversation import Intent
    from bot.routing import Route

    monkeypatch.setitem(app.dispatcher.routes.intents, "help", Route(Intent.HELP, boom))  # type: ignore[arg-type]
    out = await app.dispatcher.handle(IncomingMessage.from_text("line", "Uboom", "help"))
    assert "系統暫時出了點問題" in out.replies[0].text
    async with app.sessions() as s:
        lang = (await s.execute(select(ChannelAccount.lang).where(ChannelAccount.external_id == "Uboom"))).scalar()
    assert lang in (None, "zh-TW")  # nothing of the failed transaction stayed


async def test_transaction_commits_or_rolls_back_and_always_closes(app: Runtime) -> None:
    from bot.db.engine import transaction

    async with transaction(app.sessions) as session:
        session.add(ChannelAccount(channel="line", external_id="Ukept", lang="zh-TW", state=None, state_data={},
                                   reachable=True, created_at=app.clock.now(), last_seen_at=app.clock.now()))
    with pytest.raises(RuntimeError):
        async with transaction(app.sessions) as failing:
            failing.add(ChannelAccount(channel="line", external_id="Ulost", lang="zh-TW", state=None,
                                       state_data={}, reachable=True, created_at=app.clock.now(),
                                       last_seen_at=app.clock.now()))
            await failing.flush()
            raise RuntimeError("handler failed")
    assert not failing.in_transaction()
    async with app.sessions() as check:
        ids = set((await check.execute(select(ChannelAccount.external_id).where(
            ChannelAccount.external_id.in_(["Ukept", "Ulost"])))).scalars())
    assert ids == {"Ukept"}
    assert app.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres
async def test_a_message_survives_the_database_dropping_its_connections(pg_url: str, clock: FrozenClock) -> None:
    """Connections are not pinged before use: after PostgreSQL drops them, the next message still gets its answer."""
    app = await build_app(base_settings(pg_url), clock=clock, demo=True)
    try:
        first = await app.dispatcher.handle(IncomingMessage.from_text("line", "Urestart", "help"))
        assert first.intent == "help"
        dropped = await drop_pg_connections(pg_url.rsplit("/", 1)[1])
        assert dropped >= 1  # the pooled connection of the first message
        second = await app.dispatcher.handle(IncomingMessage.from_text("line", "Urestart", "時數"))
        assert second.intent == "hours"
        assert app.texts.get("error.internal", "zh-TW") not in second.replies[0].text
    finally:
        await app.close()


async def test_seeding_the_samples_on_another_day_tells_nobody_their_class_moved(app: Runtime) -> None:
    """Sample classes are dated from "today"; seeding again a day later moves them, which is not news."""
    from bot.db.models.core import OutboxMessage

    async with app.sessions.begin() as s:
        await seed_demo(s, app.settings.data_dir, now=app.clock.now() + timedelta(days=1), deps=app.app.deps)
    async with app.sessions() as s:
        moved = (await s.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith("class-changed:")))).scalar_one()
    assert moved == 0


@pytest.mark.postgres
async def test_a_connection_lost_while_committing_is_not_run_twice(pg_url: str, clock: FrozenClock) -> None:
    """Lost during the commit, the work may or may not be kept: the message gets the apology, not a second run."""
    from bot.routing import Route

    app = await build_app(base_settings(pg_url), clock=clock, demo=True)
    try:
        hours = app.dispatcher.routes.intents["hours"]
        calls = 0

        async def then_drop_the_connection(ctx: Any, msg: IncomingMessage, argument: str) -> Any:
            nonlocal calls
            calls += 1
            result = await hours.handler(ctx, msg, argument)
            await drop_pg_connections(pg_url.rsplit("/", 1)[1])
            return result

        app.dispatcher.routes.intents["hours"] = Route(hours.intent, then_drop_the_connection)
        outcome = await app.dispatcher.handle(IncomingMessage.from_text("line", "Ucommit", "時數"), event_id="ev-c1")
        assert calls == 1
        assert outcome.replies[0].text == app.texts.get("error.internal", "zh-TW")
        app.dispatcher.routes.intents["hours"] = hours
        again = await app.dispatcher.handle(IncomingMessage.from_text("line", "Ucommit", "時數"), event_id="ev-c2")
        assert again.intent == "hours"  # the pool recovered
    finally:
        await app.close()
