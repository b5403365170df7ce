"""The seams of the channels: a second channel registered in bootstrap, and a server with no channel.

The second channel is served next to LINE's route without a change to the web server, its rows go
through the one outbox worker, and a server without channels still answers /healthz.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web

from bot import bootstrap
from bot.bootstrap import ChannelSetup, Runtime, channel_settings_problem
from bot.channels.base import Route
from bot.conversation import Reply
from bot.db.channel_accounts import get_or_create_account
from bot.metrics import Metrics
from bot.services.notices import Recipient, enqueue
from bot.web import WebServer, build_server
from tests.line import webhooks as wh


class EchoChannel:
    """The smallest channel: one route of its own, a sender that records, a life cycle that is recorded."""

    name = "echo"

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.delivered: list[tuple[str, list[str]]] = []
        self.arrived = asyncio.Event()
        self.started = False
        self.stopped_with: float | None = None

    @property
    def sender(self) -> EchoChannel:
        return self

    def routes(self) -> Sequence[Route]:
        return (Route("POST", "/webhooks/echo", self.webhook),)

    async def webhook(self, request: web.Request) -> web.Response:
        self.received.append(await request.read())
        return web.Response(text="echo")

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        self.delivered.append((recipient.external_id, [r.text for r in replies]))
        self.arrived.set()

    async def start(self) -> None:
        self.started = True

    async def stop(self, grace: float) -> None:
        self.stopped_with = grace


def with_line(app: Runtime) -> Runtime:
    """LINE credentials set; its API is never called here (an empty webhook needs no answer)."""
    app.app = replace(app.app, settings=replace(app.settings, line_channel_secret=wh.SECRET,
                                                line_channel_access_token=wh.TOKEN,
                                                line_api_base_url="http://127.0.0.1:9"))
    return app


async def started(server: WebServer) -> str:
    await server.start("127.0.0.1", 0)
    return f"http://127.0.0.1:{server.port}"


async def test_a_channel_registered_in_bootstrap_is_served_next_to_line(sqlite_app: Runtime,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    echo = EchoChannel()
    monkeypatch.setattr(bootstrap, "CHANNELS", (*bootstrap.CHANNELS, ChannelSetup("echo", (), lambda _r, _m: echo)))
    server = await build_server(with_line(sqlite_app), Metrics())
    url = await started(server)
    try:
        assert [channel.name for channel in server.channels] == ["line", "echo"] and echo.started
        assert server.worker is not None and set(server.worker.senders) == {"line", "echo"}
        empty = wh.body()
        async with aiohttp.ClientSession() as http:
            async with http.post(url + "/webhooks/echo", data=b"hello") as response:
                assert response.status == 200 and await response.text() == "echo"
            async with http.post(url + "/webhooks/line", data=empty, headers={"X-Line-Signature": wh.sign(empty)}) as r:
                assert r.status == 200
            async with http.post(url + "/webhooks/line", data=empty, headers={"X-Line-Signature": "wrong"}) as r:
                assert r.status == 400
            async with http.get(url + "/healthz") as response:
                assert response.status == 200
            async with http.get(url + "/nowhere") as response:
                assert response.status == 404
            server.closing = True                   # what stop() does first: every channel's route says 503
            async with http.post(url + "/webhooks/echo", data=b"late") as response:
                assert response.status == 503
            server.closing = False
            async with http.get(url + "/metrics") as response:
                page = await response.text()
        assert echo.received == [b"hello"]
        assert 'abc_http_requests_total{path="/webhooks/echo",status="200"} 1' in page
        assert 'abc_http_requests_total{path="/webhooks/line",status="400"} 1' in page
        assert 'abc_http_requests_total{path="other",status="404"} 1' in page

        now = sqlite_app.clock.now()
        async with sqlite_app.sessions.begin() as s:
            account = await get_or_create_account(s, "echo", "echo-user", lang="zh-TW", now=now)
            await enqueue(s, account, [Reply.plain("通知")], dedupe_key="echo:1", now=now)
        server.worker.wake()
        async with asyncio.timeout(10):
            await echo.arrived.wait()
        assert echo.delivered == [("echo-user", ["通知"])]
    finally:
        await server.stop()
    assert echo.stopped_with == server.grace
    line = server.channels[0]
    assert line.closing and line.client.session.closed  # type: ignore[attr-defined]


async def test_a_server_without_channel_credentials_still_answers_healthz(sqlite_app: Runtime) -> None:
    server = await build_server(sqlite_app)
    assert server.channels == () and server.worker is None
    url = await started(server)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/healthz") as response:
                assert response.status == 200 and await response.json() == {"status": "ok", "database": "ok"}
            async with http.post(url + "/webhooks/line", data=b"{}") as response:
                assert response.status == 404
            async with http.get(url + "/metrics") as response:
                assert response.status == 200
    finally:
        await server.stop()


def test_serve_refuses_settings_without_a_whole_channel(sqlite_app: Runtime) -> None:
    settings = sqlite_app.settings
    assert channel_settings_problem(settings) == (
        "no channel is configured; set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN"
     " or TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET")
    half = replace(settings, line_channel_secret="s")
    assert channel_settings_problem(half) == "set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (or neither)"
    assert bootstrap.configured_channels(half) == []
    whole = replace(half, line_channel_access_token="t")
    assert channel_settings_problem(whole) is None
    assert [setup.name for setup in bootstrap.configured_channels(whole)] == ["line"]
    half_tg = replace(whole, telegram_bot_token="123:abc")
    assert channel_settings_problem(half_tg) == (
        "set both TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET (or neither)")
    both = replace(half_tg, telegram_webhook_secret="s3cret")
    assert [setup.name for setup in bootstrap.configured_channels(both)] == ["line", "telegram"]
    only_tg = replace(both, line_channel_secret=None, line_channel_access_token=None)
    assert [setup.name for setup in bootstrap.configured_channels(only_tg)] == ["telegram"]
