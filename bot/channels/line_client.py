"""The LINE API client: made once inside the running loop, with a tuned HTTP session and a capped content fetch.

The bot's own calls (reply, push, multicast, the loading animation, message content) are POSTs and a
GET of JSON it renders itself, so they go straight through one aiohttp session with the token, as the
SDK's ``AsyncApiClient`` sends them (the same headers, the same JSON, the same timeout), and a status
that is not 2xx raises :class:`LineApiError` (what the SDK's ``ApiException`` carries). Importing the
SDK's messaging package costs ~0.45 s of CPU and ~21 MB (its ~200 pydantic request and response models),
half of a server's start and its memory goal (``bench/startup.py``), for a client the hot path did
not use beyond its host and token. The SDK's typed client is still here for the commands that read its
models (quota, statistics, the rich menu): :attr:`LineClient.api` builds it on first use, on the same
session. :data:`API_ERRORS` are what a call may fail with and :func:`status_of` reads the HTTP status
out of one (0: no answer at all).
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi, AsyncMessagingApiBlob

REQUEST_TIMEOUT = 10.0
CONNECTION_POOL = 50
API = "https://api.line.me"
DATA_API = "https://api-data.line.me"
USER_AGENT = "line-bot-sdk-python/{version}"
_SDK_EXCEPTIONS = "linebot.v3.messaging.exceptions"
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class LineApiError(Exception):
    """LINE answered with a status that is not 2xx (or a call was refused before it was sent: status 400).

    Carries what the SDK's ``ApiException`` does: ``status``, ``reason``, and the answer's ``body`` and
    ``headers``, which are never logged (they may quote what was sent).
    """

    def __init__(self, status: int, reason: str | None = None, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers


API_ERRORS: tuple[type[BaseException], ...] = (LineApiError, aiohttp.ClientError, TimeoutError)
"""What a call to the LINE API may fail with: an answer that is not 2xx, a broken connection, no answer in time."""


def status_of(exc: BaseException) -> int:
    """The HTTP status of a failed LINE call (0 when LINE did not answer).

    Also reads the SDK's ``ApiException`` of the typed client (:attr:`LineClient.api`), when it is loaded.
    """
    if isinstance(exc, LineApiError):
        return exc.status
    sdk = sys.modules.get(_SDK_EXCEPTIONS)
    if sdk is not None and isinstance(exc, sdk.ApiException):
        return int(getattr(exc, "status", 0) or 0)
    return 0


def _sdk_version() -> str:
    """The installed line-bot-sdk's version (for the User-Agent the SDK itself would send)."""
    from linebot.__about__ import __version__  # the webhook parser has imported ``linebot`` already

    return str(__version__)


class LineClient:
    """The LINE API client, made once inside the running loop, with a tuned HTTP session.

    The SDK builds its aiohttp session with ``trust_env=True`` (proxy look-ups on every call) and a pool
    of ``5 × CPUs`` connections; SDK-NOTES §8 measured about four times the push throughput with
    ``trust_env=False`` and a 50-connection pool. So the session is made that way, unless a proxy
    variable is set, in which case the environment is honoured; the SDK's typed client, when a command
    asks for it (:attr:`api`), uses the same session.
    """

    def __init__(self, access_token: str, base_url: str | None = None, *, pool_size: int = CONNECTION_POOL,
                 timeout: float = REQUEST_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.access_token = access_token
        self.pool_size = pool_size
        trust_env = any(os.environ.get(v) for v in _PROXY_VARIABLES)
        self.session = aiohttp.ClientSession(  # needs the running loop
            connector=aiohttp.TCPConnector(limit=pool_size, ttl_dns_cache=300), trust_env=trust_env,
            timeout=aiohttp.ClientTimeout(total=timeout))
        self._auth = {"Authorization": f"Bearer {access_token}"}
        self._headers = {**self._auth, "User-Agent": USER_AGENT.format(version=_sdk_version())}
        self._api_client: AsyncApiClient | None = None
        self._sdk_session: aiohttp.ClientSession | None = None

    @property
    def api_client(self) -> AsyncApiClient:
        """The SDK's client on this session (imports the SDK's messaging package the first time)."""
        if self._api_client is None:
            from linebot.v3.messaging import AsyncApiClient, Configuration

            config = Configuration(access_token=self.access_token, host=self.base_url)
            config.connection_pool_maxsize = self.pool_size
            self._api_client = AsyncApiClient(config)  # needs the running loop (SDK-NOTES §1)
            self._sdk_session = self._api_client.rest_client.pool_manager
            self._api_client.rest_client.pool_manager = self.session
        return self._api_client

    @property
    def api(self) -> AsyncMessagingApi:
        """The SDK's typed messaging API (quota and the like), on this session."""
        from linebot.v3.messaging import AsyncMessagingApi

        return AsyncMessagingApi(self.api_client)

    @property
    def blob(self) -> AsyncMessagingApiBlob:
        """The SDK's typed content API, on this session."""
        from linebot.v3.messaging import AsyncMessagingApiBlob

        return AsyncMessagingApiBlob(self.api_client)

    async def send(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """POST a JSON body to a messaging endpoint, as the SDK's ``call_api`` would.

        The same request the SDK makes (its token, User-Agent, ``Accept`` and ``Content-Type`` headers,
        ``json.dumps`` of the body, the timeout), without its pydantic request models (about a
        millisecond per call for a card carousel) and without reading the answer into a model (the bot
        does not use it). Tests check the bodies against LINE's OpenAPI spec and that the SDK's own
        models read them.

        Raises:
            LineApiError: LINE answered with a status that is not 2xx.
        """
        request_headers = {**self._headers, "Accept": "application/json", "Content-Type": "application/json",
                           **(headers or {})}
        async with self.session.post(f"{self.base_url or API}{path}", data=json.dumps(body),
                                     headers=request_headers) as resp:
            data = await resp.read()
            if not 200 <= resp.status <= 299:
                raise LineApiError(resp.status, resp.reason, data, dict(resp.headers))

    async def close(self) -> None:
        """Close the HTTP session (and the SDK's unused one, when its client was made)."""
        if self._sdk_session is not None:
            await self._sdk_session.close()
        if self._api_client is not None:
            await self._api_client.close()
        await self.session.close()

    async def fetch_content(self, message_id: str, max_bytes: int) -> bytes | None:
        """Download a message's content, stopping at ``max_bytes`` (None when it is larger).

        The SDK's ``get_message_content`` reads the whole body before returning and its streaming
        variant is broken in 3.27, so this GET goes through the same session, host and token itself.
        """
        if not message_id.isascii() or not message_id.isdigit():  # checked at intake too: never another endpoint
            raise LineApiError(400, "not a message id")
        url = f"{self.base_url or DATA_API}/v2/bot/message/{message_id}/content"
        async with self.session.get(url, headers=self._auth, timeout=aiohttp.ClientTimeout(total=30)) as resp:
            if resp.status >= 300:
                raise LineApiError(resp.status, resp.reason)
            if resp.content_length is not None and resp.content_length > max_bytes:
                return None
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data.extend(chunk)
                if len(data) > max_bytes:
                    return None
            return bytes(data)
