"""Fixtures of the LINE tests: the fake LINE API, and the web server wired to it on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import Runtime
from bot.channels.line import LineChannel
from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.metrics import Metrics
from bot.services.notices import DeliveryWorker
from bot.web import WebServer
from tests.line import webhooks
from tests.line.fake_line import FakeLine


async def no_sleep(_seconds: float) -> None:
    """Retries in tests do not wait (the backoff arithmetic is tested on its own)."""


@dataclass
class Harness:
    """The bot's web server (in this process) talking to the fake LINE API."""

    app: Runtime
    fake: FakeLine
    server: WebServer
    line: LineChannel
    sender: LineSender
    worker: DeliveryWorker
    metrics: Metrics
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def post(self, *events: dict[str, Any], raw: bytes | None = None, signature: Any = ...,
                   wait: bool = True) -> int:
        """POST a webhook (signed unless told otherwise); wait until its events are handled."""
        data = raw if raw is not None else webhooks.body(*events)
        headers = {"Content-Type": "application/json"}
        sig = webhooks.sign(data) if signature is ... else signature
        if sig is not None:
            headers["X-Line-Signature"] = sig
        async with self.http.post(self.url + "/webhooks/line", data=data, headers=headers) as response:
            status = response.status
        if wait:
            assert await self.line.queues.join(10)
        return status


def line_settings(app: Runtime, fake: FakeLine) -> Runtime:
    """The app with LINE credentials pointing at the fake."""
    app.app = replace(app.app, settings=replace(app.settings, line_channel_secret=webhooks.SECRET,
                                                line_channel_access_token=webhooks.TOKEN, line_api_base_url=fake.url))
    return app


async def make_harness(app: Runtime, fake: FakeLine, **channel: Any) -> Harness:
    """Build and start a server for ``app`` (callers stop it)."""
    line_settings(app, fake)
    metrics = Metrics()
    client = LineClient(webhooks.TOKEN, fake.url)
    sender = LineSender(client, metrics, sleep=no_sleep, reply_ttl=channel.pop("reply_ttl", 50.0))
    line = LineChannel(app, metrics, secret=webhooks.SECRET, client=client, sender=sender, **channel)
    worker = DeliveryWorker(app.sessions, app.clock, {"line": sender}, metrics=metrics)
    server = WebServer(app, metrics, channels=[line], worker=None, grace=5)
    await server.start("127.0.0.1", 0)
    return Harness(app, fake, server, line, sender, worker, metrics, aiohttp.ClientSession())


@pytest.fixture
async def fake() -> AsyncIterator[FakeLine]:
    """A fake LINE API on a free port."""
    server = await FakeLine().start()
    yield server
    await server.stop()


@pytest.fixture
async def line(app: Runtime, fake: FakeLine) -> AsyncIterator[Harness]:
    """The web server on each database, wired to the fake LINE API."""
    harness = await make_harness(app, fake)
    yield harness
    await harness.http.close()
    await harness.server.stop()
