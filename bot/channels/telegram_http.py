"""PTB's networking backend on aiohttp: :class:`AiohttpRequest`, a ``telegram.request.BaseRequest``.

python-telegram-bot sends every Bot API call through a ``BaseRequest`` (its documented extension point;
the default is httpx). SDK-NOTES §8 measured that 60 % of PTB's echo is its HTTP client; aiohttp, which
the server already runs on, does the same POST for a fraction of that (bench/telegram.py). Everything
above it is PTB's: the methods, the parameters (form-encoded, each value JSON), the answers parsed into
PTB's objects and the errors raised for non-2xx answers (``BadRequest``, ``Forbidden``, ``RetryAfter``).

Failures keep the aiohttp error as ``__cause__`` so the sender can tell a request that never left (no
connection, connect time-out: safe to send again) from one whose answer was lost (not sent again).
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class AiohttpRequest(BaseRequest):
    """PTB requests over one aiohttp session (a pool of ``pool_size`` keep-alive connections)."""

    def __init__(self, *, pool_size: int = 64, connect_timeout: float = 10.0, read_timeout: float = 10.0,
                 write_timeout: float = 10.0) -> None:
        self._pool_size = pool_size
        self._connect = connect_timeout
        self._read = read_timeout
        self._write = write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read time-out (seconds)."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (inside the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                trust_env=any(os.environ.get(v) for v in _PROXY_VARIABLES))

    async def shutdown(self) -> None:
        """Close the session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        """One request; returns the status and the body (PTB reads the answer and raises for errors)."""
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        data: Any = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData()
                for key, value in request_data.json_parameters.items():
                    form.add_field(key, value)
                for key, (filename, content, mime) in files.items():
                    form.add_field(key, content, filename=filename, content_type=mime)
                data = form
            else:
                data = request_data.json_parameters
        try:
            async with self._session.request(method, url, data=data, timeout=timeout,
                                             headers={"User-Agent": self.USER_AGENT}) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut("connect timeout: the request was not sent") from exc
        except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
