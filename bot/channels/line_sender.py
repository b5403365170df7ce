"""The one sender to LINE users: reply token versus push, retry keys, retries, 409 as "already sent".

:class:`LineSender` answers webhook events (the first five messages by reply while the token is fresh,
the rest, or all of them after a refused token, by push) and is the outbox worker's sender for LINE.
Every push carries an ``X-Line-Retry-Key`` made once per logical message and reused on every attempt;
LINE's 409 means it accepted that key before. Retries (429, 5xx, 401, no answer) go through the
channel-neutral :func:`bot.channels.retry.with_retries`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from bot.channels.line_client import API_ERRORS, LineApiError, LineClient, status_of
from bot.channels.line_render import MAX_MESSAGES_PER_REQUEST, Message, render
from bot.channels.retry import Sleep, with_retries
from bot.conversation import Reply
from bot.services.notices import DeliveryError, Recipient

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
REPLY_TOKEN_TTL = 50.0
"""Seconds a reply token is used after the event arrived (LINE: about a minute); later answers are pushed."""


def retryable(status: int) -> bool:
    """429, 5xx and no response at all (0) may succeed later; 4xx will not (401: a token being rotated)."""
    return status in (0, 401, 429) or status >= 500


def _retryable_error(exc: BaseException) -> bool:
    return retryable(status_of(exc))


def part_key(retry_key: str, part: int) -> str:
    """The retry key of the ``part``-th request of one logical message (the key itself for part 0)."""
    if part == 0:
        return retry_key
    try:
        base = uuid.UUID(retry_key)
    except ValueError:
        base = uuid.uuid5(uuid.NAMESPACE_URL, retry_key)
    return str(uuid.uuid5(base, f"part-{part}"))


class LineSender:
    """Owns every call that sends something to a LINE user: reply versus push, retries, 409."""

    def __init__(self, client: LineClient, metrics: Metrics, *, attempts: int = 4, backoff: float = 0.5,
                 reply_ttl: float = REPLY_TOKEN_TTL, sleep: Sleep = asyncio.sleep) -> None:
        self.client = client
        self.metrics = metrics
        self.attempts = attempts
        self.backoff = backoff
        self.reply_ttl = reply_ttl
        self.sleep = sleep

    async def _call(self, name: str, call: Callable[[], Awaitable[T]], attempts: int) -> T:
        """Make one API call, retrying what may succeed later with doubling, jittered waits (counted by ``name``)."""

        async def counted() -> T:
            self.metrics.api_calls.inc(name)
            return await call()

        def failed(exc: BaseException, attempt: int, delay: float | None) -> None:
            status = status_of(exc)
            self.metrics.api_failures.inc(name, str(status))
            if delay is not None:
                log.warning("LINE %s failed status=%s attempt=%s; retrying in %.2fs", name, status, attempt, delay)

        return await with_retries(counted, attempts=attempts, backoff=self.backoff, errors=API_ERRORS,
                                  retryable=_retryable_error, sleep=self.sleep, failed=failed)

    async def reply(self, reply_token: str, messages: Sequence[Message]) -> bool:
        """Answer with a reply token; False when the token was refused (expired or already used).

        A reply carries no retry key. When an attempt got no answer or a 5xx, LINE may have sent it all
        the same and spent the token; a 400 on the retry then means "already used by us", so the answer
        counts as sent (pushing it would show it twice). Only a token refused on a clean attempt (or
        after 429s, which LINE did not accept) falls back to push.
        """
        body = {"replyToken": reply_token, "messages": list(messages)}
        maybe_sent = False

        async def attempt() -> None:
            nonlocal maybe_sent
            try:
                await self.client.send("/v2/bot/message/reply", body)
            except API_ERRORS as exc:
                status = status_of(exc)
                if status == 0 or status >= 500:
                    maybe_sent = True
                raise

        try:
            await self._call("reply", attempt, self.attempts)
        except LineApiError as exc:
            if status_of(exc) == 400:
                if maybe_sent:
                    log.info("LINE reply token refused after an unanswered attempt: taken as sent")
                    return True
                return False
            raise
        return True

    async def push(self, user_id: str, messages: Sequence[Message], retry_key: str, *,
                   attempts: int | None = None) -> None:
        """Push with ``retry_key`` (the same on every attempt); 409 means LINE already accepted it."""
        body = {"to": user_id, "messages": list(messages)}

        async def attempt() -> bool:
            try:
                await self.client.send("/v2/bot/message/push", body, {"X-Line-Retry-Key": retry_key})
            except LineApiError as exc:
                if status_of(exc) == 409:  # an answer, not a failure: neither retried nor counted as one
                    return False
                raise
            return True

        if not await self._call("push", attempt, attempts or self.attempts):
            log.info("LINE push already accepted (409): not sent again")

    async def answer(self, user_id: str, reply_token: str | None, received_at: float,
                     messages: Sequence[Message]) -> None:
        """Send an event's answer: the first five messages by reply while the token is fresh, the rest by push.

        ``received_at`` is the ``time.monotonic()`` of the webhook request. A refused reply token (it
        expired, or the handler took too long) falls back to push, under a new retry key made once.
        """
        chunks = [list(messages[i:i + MAX_MESSAGES_PER_REQUEST])
                  for i in range(0, len(messages), MAX_MESSAGES_PER_REQUEST)]
        if not chunks:
            return
        first = chunks[0]
        replied = False
        if reply_token and time.monotonic() - received_at < self.reply_ttl:
            replied = await self.reply(reply_token, first)
            if not replied:
                log.info("LINE reply token refused; pushing instead")
        retry_key = str(uuid.uuid4())
        for part, chunk in enumerate(chunks if not replied else chunks[1:]):
            await self.push(user_id, chunk, part_key(retry_key, part))

    async def show_loading(self, user_id: str, seconds: int = 20) -> None:
        """LINE's loading animation in a one-to-one chat (best effort: failures are only counted)."""
        body = {"chatId": user_id, "loadingSeconds": seconds}  # the SDK's ShowLoadingAnimationRequest, as JSON

        async def attempt() -> None:
            await self.client.send("/v2/bot/chat/loading/start", body)

        with contextlib.suppress(*API_ERRORS):
            await self._call("loading", attempt, 1)

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        """The outbox worker's sender: push one row (one attempt; the worker schedules retries)."""
        messages = render(replies)
        try:
            for part, start in enumerate(range(0, len(messages), MAX_MESSAGES_PER_REQUEST)):
                await self.push(recipient.external_id, messages[start:start + MAX_MESSAGES_PER_REQUEST],
                                part_key(retry_key, part), attempts=1)
        except LineApiError as exc:
            status = status_of(exc)
            raise DeliveryError(f"LINE push status {status}: {exc.reason}", retry=retryable(status)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"LINE push: {type(exc).__name__}", retry=True) from exc

    async def deliver_many(self, external_ids: Sequence[str], replies: list[Reply], retry_key: str,
                           unit: str | None = None) -> None:
        """The announcements' sender: ONE multicast call (≤ 500 ids, ≤ 5 messages) with the chunk's kept retry key.

        One attempt (the chunk deliverer schedules retries); 409 means LINE accepted this key before.
        ``unit`` is LINE's custom aggregation unit, so opens and clicks can be read per announcement.
        """
        messages = render(replies)[:MAX_MESSAGES_PER_REQUEST]
        body: dict[str, Any] = {"to": list(external_ids), "messages": messages}
        if unit:
            body["customAggregationUnits"] = [unit]

        async def attempt() -> None:
            try:
                await self.client.send("/v2/bot/message/multicast", body, {"X-Line-Retry-Key": retry_key})
            except LineApiError as exc:
                if status_of(exc) != 409:
                    raise

        try:
            await self._call("multicast", attempt, 1)
        except LineApiError as exc:
            status = status_of(exc)
            raise DeliveryError(f"LINE multicast status {status}: {exc.reason}", retry=retryable(status)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"LINE multicast: {type(exc).__name__}", retry=True) from exc
