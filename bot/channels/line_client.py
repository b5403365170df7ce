"""The LINE SDK client: made once inside the running loop, with a tuned HTTP session and a capped content fetch.

Requests go through the SDK's ``AsyncApiClient`` (its host, token and ``ApiException``) with our
rendered JSON as the body; the one thing it cannot do well, downloading a message's content with a size
cap, is a GET on the same session. :data:`API_ERRORS` are what a call may fail with and
:func:`status_of` reads the HTTP status out of one (0: no answer at all).
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from linebot.v3.messaging import ApiException, AsyncApiClient, AsyncMessagingApi, AsyncMessagingApiBlob, Configuration

REQUEST_TIMEOUT = 10.0
CONNECTION_POOL = 50
DATA_API = "https://api-data.line.me"
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")

API_ERRORS: tuple[type[BaseException], ...] = (ApiException, aiohttp.ClientError, TimeoutError)
"""What a call to the LINE API may fail with: an answer that is not 2xx, a broken connection, no answer in time."""


def status_of(exc: BaseException) -> int:
    """The HTTP status of a failed LINE call (0 when LINE did not answer)."""
    return int(getattr(exc, "status", 0) or 0) if isinstance(exc, ApiException) else 0


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
        if not message_id.isascii() or not message_id.isdigit():  # checked at intake too: never another endpoint
            raise ApiException(status=400, reason="not a message id")
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
