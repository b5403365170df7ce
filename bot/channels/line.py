"""The LINE channel: webhook intake, exactly-once event handling, and the one sender to the LINE API.

The only modules that import ``linebot`` are this one, :mod:`bot.channels.line_render` and the rich-menu
command. The flow of one webhook request (see docs/line.md):

1. :meth:`LineChannel.receive` gets the raw body and the ``X-Line-Signature`` header: the signature is
   checked in constant time before anything is parsed; the body is parsed with the v3 ``WebhookParser``
   (events the SDK cannot read are logged by type only and acknowledged). Each event is queued for its
   user and the request is answered 200 straight away.
2. :class:`UserQueues` runs events with bounded concurrency, one at a time per user (in arrival order).
3. :meth:`LineChannel.handle_event` turns an event into an :class:`IncomingMessage` (fetching an image
   through the content API with a size cap) and calls the dispatcher with the event's
   ``webhookEventId``: the id is stored in the handler's own transaction, so a redelivered event (also
   one arriving at another server process) is answered once, and an event whose handling failed leaves
   no trace.
4. :class:`LineSender` answers: with the reply token while it is fresh, otherwise (or for messages past
   the fifth) by push with an ``X-Line-Retry-Key`` made once per message, retrying 429/5xx with
   backoff and treating 409 as "already sent". It is also the outbox worker's sender for LINE.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from linebot.v3 import WebhookParser
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    ShowLoadingAnimationRequest,
)
from linebot.v3.models.events import UnknownEvent  # what the parser returns for what it cannot read
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    ImageMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from bot.channels.line_render import MAX_MESSAGES_PER_REQUEST, Message, render
from bot.conversation import MAX_IMAGE_BYTES, IncomingMessage, MessageKind, Reply
from bot.db.engine import is_sqlite
from bot.db.events import EventLedger
from bot.services.notices import DeliveryError, Recipient

if TYPE_CHECKING:
    from bot.bootstrap import Runtime
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

CHANNEL = "line"
REQUEST_TIMEOUT = 10.0
CONNECTION_POOL = 50
REPLY_TOKEN_TTL = 50.0
"""Seconds a reply token is used after the event arrived (LINE: about a minute); later answers are pushed."""
LOADING_AFTER = 1.0
"""Seconds of handling after which the user sees LINE's loading animation."""
DATA_API = "https://api-data.line.me"
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def signature_of(body: bytes, secret: str) -> str:
    """``X-Line-Signature`` of a raw body: base64 of HMAC-SHA256 keyed with the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_ok(body: bytes, signature: str | None, secret: str) -> bool:
    """Constant-time check of a webhook signature (a missing one is wrong)."""
    if not signature:
        return False
    # A header with bytes that are not UTF-8 arrives with surrogate escapes: wrong, not a crash.
    given = signature.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(signature_of(body, secret).encode(), given)


# ---------------------------------------------------------------------------------------- SDK client


class LineClient:
    """The SDK client, made once inside the running loop, with a tuned HTTP session.

    The SDK builds its aiohttp session with ``trust_env=True`` (proxy look-ups on every call) and a pool
    of ``5 × CPUs`` connections; SDK-NOTES §8 measured about four times the push throughput with
    ``trust_env=False`` and a 50-connection pool. So the SDK's session is swapped for one made that
    way, unless a proxy variable is set, in which case the environment is honoured.
    """

    def __init__(self, access_token: str, base_url: str | None = None, *, pool_size: int = CONNECTION_POOL,
                 timeout: float = REQUEST_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        config = Configuration(access_token=access_token, host=self.base_url)
        config.connection_pool_maxsize = pool_size
        self.api_client = AsyncApiClient(config)  # needs the running loop (SDK-NOTES §1)
        self._sdk_session: aiohttp.ClientSession = self.api_client.rest_client.pool_manager
        trust_env = any(os.environ.get(v) for v in _PROXY_VARIABLES)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=pool_size, ttl_dns_cache=300), trust_env=trust_env,
            timeout=aiohttp.ClientTimeout(total=timeout))
        self.api_client.rest_client.pool_manager = self.session
        self.api = AsyncMessagingApi(self.api_client)
        self.blob = AsyncMessagingApiBlob(self.api_client)
        self._auth = {"Authorization": f"Bearer {access_token}"}

    async def send(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """POST a JSON body to a messaging endpoint through the SDK's client.

        The SDK adds the token and host, sends with our session and raises its ``ApiException`` for a
        non-2xx answer; the body is our rendered JSON, so the SDK's pydantic request models (about a
        millisecond per call for a card carousel) are skipped, and so is turning the answer (which the
        bot does not use) into a model. Tests check the bodies against LINE's OpenAPI spec and that the
        SDK's own models read them.
        """
        header_params = {"Accept": "application/json", "Content-Type": "application/json", **(headers or {})}
        await self.api_client.call_api(
            path, "POST", {}, [], header_params, body=body, post_params=[], files={},
            response_types_map={}, auth_settings=["Bearer"],
            _return_http_data_only=True, _preload_content=True, _request_timeout=self.timeout,
            collection_formats={})

    async def close(self) -> None:
        """Close both HTTP sessions (the SDK's unused one and ours)."""
        await self._sdk_session.close()
        await self.api_client.close()

    async def fetch_content(self, message_id: str, max_bytes: int) -> bytes | None:
        """Download a message's content, stopping at ``max_bytes`` (None when it is larger).

        The SDK's ``get_message_content`` reads the whole body before returning and its streaming
        variant is broken in 3.27, so this GET goes through the same session, host and token itself.
        """
        url = f"{self.base_url or DATA_API}/v2/bot/message/{message_id}/content"
        async with self.session.get(url, headers=self._auth, timeout=aiohttp.ClientTimeout(total=30)) as resp:
            if resp.status >= 300:
                raise ApiException(status=resp.status, reason=resp.reason)
            if resp.content_length is not None and resp.content_length > max_bytes:
                return None
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data.extend(chunk)
                if len(data) > max_bytes:
                    return None
            return bytes(data)


# ---------------------------------------------------------------------------------------- sending


def _status(exc: BaseException) -> int:
    return int(getattr(exc, "status", 0) or 0) if isinstance(exc, ApiException) else 0


def _retryable(status: int) -> bool:
    """429, 5xx and no response at all (0) may succeed later; 4xx will not (401: a token being rotated)."""
    return status in (0, 401, 429) or status >= 500


def part_key(retry_key: str, part: int) -> str:
    """The retry key of the ``part``-th request of one logical message (the key itself for part 0)."""
    if part == 0:
        return retry_key
    try:
        base = uuid.UUID(retry_key)
    except ValueError:
        base = uuid.uuid5(uuid.NAMESPACE_URL, retry_key)
    return str(uuid.uuid5(base, f"part-{part}"))


Sleep = Callable[[float], Awaitable[None]]


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

    async def _call(self, name: str, call: Callable[[], Awaitable[Any]], attempts: int) -> Any:
        """Make one API call, retrying what may succeed later with doubling, jittered waits."""
        for attempt in range(1, attempts + 1):
            self.metrics.api_calls.inc(name)
            try:
                return await call()
            except (ApiException, aiohttp.ClientError, TimeoutError) as exc:
                status = _status(exc)
                if status == 409 and name == "push":
                    raise
                self.metrics.api_failures.inc(name, str(status))
                if attempt >= attempts or not _retryable(status):
                    raise
                delay = self.backoff * (2 ** (attempt - 1)) * random.uniform(1.0, 1.3)
                log.warning("LINE %s failed status=%s attempt=%s; retrying in %.2fs", name, status, attempt, delay)
                await self.sleep(delay)
        raise AssertionError("unreachable")

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
            except (ApiException, aiohttp.ClientError, TimeoutError) as exc:
                status = _status(exc)
                if status == 0 or status >= 500:
                    maybe_sent = True
                raise

        try:
            await self._call("reply", attempt, self.attempts)
        except ApiException as exc:
            if _status(exc) == 400:
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
        try:
            await self._call("push", lambda: self.client.send(
                "/v2/bot/message/push", body, {"X-Line-Retry-Key": retry_key}),
                attempts or self.attempts)
        except ApiException as exc:
            if _status(exc) != 409:
                raise
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
        request = ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=seconds)
        with contextlib.suppress(ApiException, aiohttp.ClientError, TimeoutError):
            await self._call("loading", lambda: self.client.api.show_loading_animation(
                request, _request_timeout=self.client.timeout), 1)

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        """The outbox worker's sender: push one row (one attempt; the worker schedules retries)."""
        messages = render(replies)
        try:
            for part, start in enumerate(range(0, len(messages), MAX_MESSAGES_PER_REQUEST)):
                await self.push(recipient.external_id, messages[start:start + MAX_MESSAGES_PER_REQUEST],
                                part_key(retry_key, part), attempts=1)
        except ApiException as exc:
            status = _status(exc)
            raise DeliveryError(f"LINE push status {status}: {exc.reason}", retry=_retryable(status)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"LINE push: {type(exc).__name__}", retry=True) from exc


# ---------------------------------------------------------------------------------------- scheduling


Job = Callable[[], Awaitable[None]]


class UserQueues:
    """Runs jobs one at a time per key (a user), at most ``concurrency`` at once overall.

    ``submit`` waits while ``max_pending`` jobs are queued, which slows the webhook down instead of
    letting memory grow when LINE sends faster than the bot answers.
    """

    def __init__(self, concurrency: int = 32, max_pending: int = 5000) -> None:
        self._gate = asyncio.Semaphore(concurrency)
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._room = asyncio.Condition()
        self.max_pending = max_pending
        self.pending = 0

    async def submit(self, key: str, job: Job) -> None:
        """Queue ``job`` behind the other jobs of ``key``."""
        if self.pending >= self.max_pending:
            async with self._room:
                await self._room.wait_for(lambda: self.pending < self.max_pending)
        self.pending += 1
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            queue.append(job)
            self._workers[key] = asyncio.create_task(self._drain(key, queue))
        else:
            queue.append(job)

    async def _drain(self, key: str, queue: deque[Job]) -> None:
        try:
            while queue:
                job = queue[0]
                try:
                    async with self._gate:
                        await job()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("LINE event job failed")
                finally:
                    queue.popleft()
                    self.pending -= 1
                    if self.pending < self.max_pending:
                        async with self._room:
                            self._room.notify_all()
        finally:
            self._queues.pop(key, None)
            self._workers.pop(key, None)

    @property
    def busy(self) -> bool:
        """True while any job is queued or running."""
        return bool(self._workers)

    async def join(self, within: float | None = None) -> bool:
        """Wait until every queued job has run (True), or ``within`` seconds passed (False)."""
        deadline = None if within is None else time.monotonic() + within
        while self._workers:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(list(self._workers.values()), timeout=left)
        return True

    async def cancel(self) -> int:
        """Cancel whatever is still queued or running; returns how many jobs were dropped."""
        dropped = self.pending
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pending = 0
        return dropped


# ---------------------------------------------------------------------------------------- the channel


class WebhookRejected(Exception):
    """A webhook request refused as a whole; ``status`` is the HTTP answer, ``reason`` the metric label."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Event:
    event: Event
    received_at: float


def _type_label(kind: object) -> str:
    """An event type fit for logs and metric labels (never user content)."""
    text = str(kind or "unknown")
    return text if len(text) <= 32 and text.replace("_", "").isalnum() else "invalid"


def _event_type(event: Any) -> str:
    return _type_label(getattr(event, "type", None))


class LineChannel:
    """Receives LINE webhooks and answers them (see the module docstring)."""

    def __init__(self, app: Runtime, metrics: Metrics, *, secret: str, client: LineClient,
                 sender: LineSender | None = None, concurrency: int = 32, max_image_bytes: int = MAX_IMAGE_BYTES,
                 loading_after: float = LOADING_AFTER) -> None:
        self.app = app
        self.metrics = metrics
        self.secret = secret
        self.client = client
        self.sender = sender or LineSender(client, metrics)
        self.parser = WebhookParser(secret, skip_signature_verification=lambda: True)  # checked before
        self.queues = UserQueues(concurrency=concurrency)
        self.max_image_bytes = max_image_bytes
        self.loading_after = loading_after
        self._loading_tasks: set[asyncio.Task[None]] = set()
        # SQLite has one writer: transactions that overlap wait in its busy handler (sleeps of up to
        # 100 ms). Queueing them here instead keeps latency flat; PostgreSQL runs them in parallel.
        self._db_gate = asyncio.Semaphore(1 if is_sqlite(app.settings.database_url) else concurrency)
        # Event ids: on SQLite, claimed in batches ahead of the handler (a message that writes nothing then
        # costs a read-only transaction: 1.70 -> 1.51 ms of CPU per event); on PostgreSQL, claimed inside
        # the handler's own transaction (one transaction per event measured faster there: 803 vs 346 req/s).
        self.ledger = (EventLedger(app.sessions, app.engine.dialect.name, app.clock.now, gate=self._db_gate)
                       if is_sqlite(app.settings.database_url) else None)

    @classmethod
    def from_settings(cls, app: Runtime, metrics: Metrics) -> LineChannel:
        """Build the channel and its SDK client from the settings (call inside the running loop)."""
        settings = app.settings
        if not (settings.line_channel_secret and settings.line_channel_access_token):
            raise ValueError("LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are both needed")
        client = LineClient(settings.line_channel_access_token, settings.line_api_base_url)
        return cls(app, metrics, secret=settings.line_channel_secret, client=client)

    async def close(self) -> None:
        """Close the SDK client."""
        await self.client.close()

    # -------------------------------------------------------------- intake

    def parse(self, body: bytes, signature: str | None) -> list[Event]:
        """Verify and parse a webhook body, or raise :class:`WebhookRejected` (nothing was processed)."""
        if not signature_ok(body, signature, self.secret):
            raise WebhookRejected(400, "signature")
        try:
            text = body.decode("utf-8")
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested beyond the parser
            raise WebhookRejected(400, "malformed") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
            raise WebhookRejected(400, "malformed")
        try:
            return list(self.parser.parse(text, signature or "", as_payload=True).events)
        except Exception:
            # One unreadable event must not sink the others: read them one by one.
            return [e for e in (self._parse_one(raw) for raw in doc["events"]) if e is not None]

    def _parse_one(self, raw: object) -> Event | None:
        try:
            if not isinstance(raw, dict):
                raise TypeError("event is not an object")
            try:
                return Event.from_dict(raw)
            except ValueError:  # as the parser does: a type it does not know (or cannot read) is "unknown"
                return UnknownEvent.new_from_json_dict(raw)
        except Exception:
            kind = _type_label(raw.get("type") if isinstance(raw, dict) else None)
            log.warning("LINE event malformed; acknowledged and dropped type=%s", kind)
            self.metrics.events_handled.inc(kind, "malformed")
            return None

    async def receive(self, body: bytes, signature: str | None) -> int:
        """Accept one webhook request: queue its events (per user) and return how many were queued."""
        events = self.parse(body, signature)
        now = time.monotonic()
        queued = 0
        for event in events:
            kind = _event_type(event)
            if isinstance(event, UnknownEvent) or not isinstance(event, Event):
                log.info("LINE event of unknown type acknowledged type=%s", kind)
                self.metrics.events_handled.inc(kind, "unknown")
                continue
            source = getattr(event, "source", None)
            if not isinstance(source, UserSource) or not source.user_id:
                log.info("LINE event not from a one-to-one chat ignored type=%s", kind)
                self.metrics.events_handled.inc(kind, "ignored")
                continue
            self.metrics.events_received.inc(kind)
            item = _Event(event, now)
            await self.queues.submit(source.user_id, lambda item=item: self.handle_event(item))  # type: ignore[misc]
            queued += 1
        return queued

    # -------------------------------------------------------------- handling

    async def _message(self, event: Event, user_id: str) -> IncomingMessage | None:
        if isinstance(event, MessageEvent):
            content = event.message
            if isinstance(content, TextMessageContent):
                return IncomingMessage.from_text(CHANNEL, user_id, content.text or "")
            if isinstance(content, ImageMessageContent):
                return await self._image(content, user_id)
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.OTHER)
        if isinstance(event, PostbackEvent):
            return IncomingMessage.from_payload(CHANNEL, user_id, event.postback.data or "")
        if isinstance(event, FollowEvent):
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.FOLLOW)
        if isinstance(event, UnfollowEvent):
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.UNFOLLOW)
        return None

    async def _image(self, content: ImageMessageContent, user_id: str) -> IncomingMessage:
        provider = getattr(content.content_provider, "type", "line")
        problem: str | None = None
        data: bytes | None = None
        if provider != "line":
            problem = "external"
        else:
            await self.sender.show_loading(user_id, 20)
            self.metrics.api_calls.inc("content")
            try:
                data = await self.client.fetch_content(content.id, self.max_image_bytes)
            except (ApiException, aiohttp.ClientError, TimeoutError) as exc:
                self.metrics.api_failures.inc("content", str(_status(exc)))
                problem = "unavailable"
            else:
                if data is None:
                    problem = "too_large"
        return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.IMAGE, image=data,
                               image_problem=problem)

    async def handle_event(self, item: _Event) -> None:
        """Handle one event: dispatch it once (by its webhookEventId) and send the answer."""
        event, kind = item.event, _event_type(item.event)
        user_id: str = item.event.source.user_id
        event_id: str | None = str(event.webhook_event_id)
        if self.ledger is not None:
            if not await self.ledger.claim(CHANNEL, str(event_id)):  # before any work, e.g. a download
                self.metrics.events_handled.inc(kind, "duplicate")
                return
            event_id = None  # claimed already
        msg = await self._message(event, user_id)
        if msg is None:
            log.info("LINE event needs no answer type=%s", kind)
            self.metrics.events_handled.inc(kind, "ignored")
            return
        loop = asyncio.get_running_loop()
        loading = loop.call_later(self.loading_after, self._start_loading, user_id)
        try:
            async with self._db_gate:
                outcome = await self.app.dispatcher.handle(msg, event_id=event_id)
        finally:
            loading.cancel()
        if outcome.duplicate:
            self.metrics.events_handled.inc(kind, "duplicate")
            return
        if outcome.replies:
            messages = render(outcome.replies)
            try:
                await self.sender.answer(user_id, getattr(event, "reply_token", None), item.received_at, messages)
            except Exception as exc:
                self.metrics.events_handled.inc(kind, "send_failed")
                log.warning("LINE answer not delivered type=%s error=%s status=%s", kind, type(exc).__name__,
                            _status(exc))
                return
        self.metrics.events_handled.inc(kind, "ok")
        self.metrics.event_latency.observe(time.monotonic() - item.received_at)

    def _start_loading(self, user_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self.sender.show_loading(user_id))
        self._loading_tasks.add(task)
        task.add_done_callback(self._loading_tasks.discard)

    async def drain(self, within: float) -> int:
        """Finish queued events within ``within`` seconds; returns how many had to be dropped."""
        if await self.queues.join(within):
            dropped = 0
        else:
            dropped = await self.queues.cancel()
            log.warning("shutdown: %s LINE events were not finished in %.0fs", dropped, within)
        if self._loading_tasks:
            await asyncio.gather(*self._loading_tasks, return_exceptions=True)
        return dropped
