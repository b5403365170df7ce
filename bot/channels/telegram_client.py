"""The python-telegram-bot client: the ``Application`` (no Updater), the fan-out pacing, what a failure means.

:func:`build_application` makes PTB's ``Application`` with ``.updater(None)`` (``serve`` receives the
webhook itself; ``abc-bot telegram poll`` calls ``getUpdates`` through the same bot), our pacing as its
rate limiter, aiohttp as its HTTP client for the calls that answer users
(:mod:`~bot.channels.telegram_http`; long polling keeps PTB's httpx) and, in tests,
``TELEGRAM_API_BASE_URL`` as the Bot API's address.

:class:`Pacing` is PTB's ``AIORateLimiter`` (30 requests a second overall) plus one message a second per
chat, applied to the calls that ask for it (``rate_limit_args=FAN_OUT``): outbox deliveries. Replies to
a user who just wrote are not paced (Telegram's limits are about bulk sending; a 429 is still honoured).

:func:`failure_of` reads a PTB error: whether the user is unreachable (403 blocked, 400 chat not found),
whether Telegram asked to wait (429 and its ``retry_after``), and whether the request may have reached
Telegram (a read time-out) or certainly did not (no connection, a full pool, a 5xx or 429 answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import httpx
from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.channels.telegram_http import AiohttpRequest

FAN_OUT = True
"""``rate_limit_args`` of a paced call (outbox deliveries)."""
OVERALL_PER_SECOND = 30
PER_CHAT_PER_SECOND = 1
REQUEST_TIMEOUT = 10.0
CONNECTION_POOL = 64

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, aiohttp.ClientConnectorError,
             aiohttp.ConnectionTimeoutError)
"""httpx errors raised before the request left: trying again cannot send it twice."""


class Pacing(BaseRateLimiter[bool]):
    """``AIORateLimiter`` (30/s overall) and 1/s per chat, for the calls made with ``rate_limit_args=FAN_OUT``."""

    def __init__(self, overall: float = OVERALL_PER_SECOND, per_chat: float = PER_CHAT_PER_SECOND) -> None:
        self._overall = AIORateLimiter(overall_max_rate=overall, overall_time_period=1, max_retries=0)
        self._per_chat_rate = per_chat
        self._chats: dict[str, AsyncLimiter] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _chat(self, chat_id: object) -> AsyncLimiter:
        key = str(chat_id)
        if len(self._chats) > 1024:  # forget chats that are idle again, as PTB does for groups
            for other, limiter in list(self._chats.items()):
                if other != key and limiter.has_capacity(limiter.max_rate):
                    del self._chats[other]
        if key not in self._chats:
            self._chats[key] = AsyncLimiter(self._per_chat_rate, 1)
        return self._chats[key]

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any]
                                                                      | list[dict[str, Any]]]],
                              args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: bool | None) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send unpaced, or paced per chat and then overall (see the class docstring)."""
        if not rate_limit_args:
            return await callback(*args, **kwargs)
        chat = data.get("chat_id")
        gate = self._chat(chat) if chat is not None else contextlib.nullcontext()
        async with gate:
            return await self._overall.process_request(callback, args, kwargs, endpoint, data, None)


def build_application(token: str, base_url: str | None = None, *, pacing: Pacing | None = None,
                      pool_size: int = CONNECTION_POOL, timeout: float = REQUEST_TIMEOUT) -> TelegramApp:
    """PTB's ``Application`` without an Updater, with our pacing and request settings (not initialised yet)."""
    request = AiohttpRequest(pool_size=pool_size, connect_timeout=timeout, read_timeout=timeout,
                             write_timeout=timeout)
    builder = (Application.builder().token(token).updater(None).job_queue(None).request(request)
               .get_updates_request(HTTPXRequest(connection_pool_size=2, read_timeout=60, connect_timeout=timeout))
               .rate_limiter(pacing or Pacing()))
    if base_url:
        root = base_url.rstrip("/")
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    app: TelegramApp = builder.build()
    return app


@dataclass(frozen=True)
class Failure:
    """What a failed Bot API call means for the sender."""

    status: int
    """The HTTP status (0: no answer; 429 for a flood wait)."""
    unreachable: bool = False
    retry_after: float | None = None
    not_sent: bool = False
    """Telegram certainly did not take it (trying again cannot duplicate it)."""


def failure_of(exc: BaseException) -> Failure:
    """Classify a PTB error (see the module docstring)."""
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22.2+ warns that it becomes a timedelta; both are read
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return Failure(429, retry_after=seconds, not_sent=True)
    if isinstance(exc, Forbidden):
        return Failure(403, unreachable=True)  # blocked, deactivated, never started: nothing will reach them
    if isinstance(exc, BadRequest):
        return Failure(400, unreachable="chat not found" in str(exc).lower())
    if isinstance(exc, TimedOut):
        return Failure(0, not_sent=isinstance(exc.__cause__, _NOT_SENT) or "pool timeout" in str(exc).lower())
    if isinstance(exc, NetworkError):
        cause = exc.__cause__
        if cause is None:  # Telegram answered with a status PTB has no class for (5xx): it did not send
            return Failure(500, not_sent=True)
        return Failure(0, not_sent=isinstance(cause, _NOT_SENT))
    if isinstance(exc, TelegramError):
        return Failure(400)
    return Failure(0)


API_ERRORS: tuple[type[BaseException], ...] = (TelegramError, asyncio.TimeoutError)
"""What a Bot API call may fail with."""
__all__ = ["API_ERRORS", "FAN_OUT", "ExtBot", "Failure", "Pacing", "TelegramApp", "build_application", "failure_of"]
