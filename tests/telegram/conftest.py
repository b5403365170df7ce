"""Fixtures of the Telegram tests: the fake Bot API, and the web server with the real PTB wired to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import Runtime
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_client import Pacing, build_application
from bot.channels.telegram_sender import TelegramSender
from bot.metrics import Metrics
from bot.services.notices import DeliveryWorker
from bot.web import WebServer
from tests.telegram import updates
from tests.telegram.fake_telegram import TOKEN, Call, FakeTelegram


async def no_sleep(_seconds: float) -> None:
    """Retries in tests do not wait; the waits asked for are recorded by :class:`Waits`."""


class Waits(list[float]):
    """A sleep that records what it was asked to wait."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class Harness:
    """The bot's web server (in this process) with the Telegram channel talking to the fake Bot API."""

    app: Runtime
    fake: FakeTelegram
    server: WebServer
    telegram: TelegramChannel
    sender: TelegramSender
    worker: DeliveryWorker
    metrics: Metrics
    http: aiohttp.ClientSession
    waits: Waits

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/webhooks/telegram"

    async def post(self, update: dict[str, Any] | None = None, *, raw: bytes | None = None, secret: Any = ...,
                   wait: bool = True) -> int:
        """POST one update with the secret header (unless told otherwise); wait until it is handled."""
        data = raw if raw is not None else json.dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        token = updates.SECRET if secret is ... else secret
        if token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        async with self.http.post(self.url, data=data, headers=headers) as response:
            status = response.status
        if wait:
            assert await self.telegram.queues.join(10)
        return status

    def new_calls(self, since: int) -> list[Call]:
        """The calls the fake received after the first ``since``."""
        return self.fake.calls[since:]


def telegram_settings(app: Runtime, fake: FakeTelegram) -> Runtime:
    """The app with Telegram credentials pointing at the fake."""
    app.app = replace(app.app, settings=replace(app.settings, telegram_bot_token=TOKEN,
                                                telegram_webhook_secret=updates.SECRET,
                                                telegram_api_base_url=fake.url))
    return app


async def make_harness(app: Runtime, fake: FakeTelegram, **channel: Any) -> Harness:
    """Build and start a server for ``app`` with the Telegram channel (callers stop it)."""
    telegram_settings(app, fake)
    metrics = Metrics()
    waits = Waits()
    application = build_application(TOKEN, fake.url, pacing=channel.pop("pacing", Pacing(overall=1000, per_chat=1000)))
    # (pacing itself: test_delivery)
    sender = TelegramSender(application.bot, metrics, app.sessions, app.clock, sleep=waits)
    telegram = TelegramChannel(app, metrics, secret=updates.SECRET, application=application, sender=sender, **channel)
    worker = DeliveryWorker(app.sessions, app.clock, {"telegram": sender}, metrics=metrics)
    server = WebServer(app, metrics, channels=[telegram], worker=None, grace=5)
    await server.start("127.0.0.1", 0)
    return Harness(app, fake, server, telegram, sender, worker, metrics, aiohttp.ClientSession(), waits)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A fake Bot API on a free port."""
    server = await FakeTelegram().start()
    yield server
    await server.stop()


@pytest.fixture
async def tg(app: Runtime, fake: FakeTelegram) -> AsyncIterator[Harness]:
    """The web server on each database, its Telegram channel wired to the fake Bot API."""
    harness = await make_harness(app, fake)
    yield harness
    await harness.http.close()
    await harness.server.stop()
