"""What every chat channel offers the rest of the bot: the :class:`Channel` protocol and its HTTP routes.

The web server (``abc-bot serve``), the outbox worker and the console see a channel only through this
protocol; :mod:`bot.bootstrap` builds the channels the settings configure. It holds only what every
channel can do (STYLE.md: a small protocol, extras stay inside one adapter): a name, the endpoints it
adds to the shared aiohttp server (none for the console), the sender the outbox worker delivers its
rows through, and a life cycle. Parsing, verification, rate limits and the SDK stay in the adapter.

Adding a channel: implement :class:`Channel` in ``bot/channels/<name>*.py`` and register how to build it
in ``bootstrap.CHANNELS``. Nothing in the web server, the CLI or the other channels changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.services.notices import ChannelSender

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEFAULT_MAX_BODY = 1024 * 1024
"""The largest request body a route accepts unless it says otherwise (1 MiB)."""


@dataclass(frozen=True)
class Route:
    """One HTTP endpoint a channel adds to the shared server (for example LINE's ``POST /webhooks/line``)."""

    method: str
    path: str
    handler: Handler
    max_body: int = DEFAULT_MAX_BODY
    """The largest body the server reads for it; the handler answers what is larger (LINE: 413)."""


class Channel(Protocol):
    """A chat channel as the server, the CLI and the outbox worker see it."""

    @property
    def name(self) -> str:
        """Its name in ``channel_accounts`` and ``outbox`` rows (``line``, ``telegram``, ``console``)."""
        ...

    @property
    def sender(self) -> ChannelSender:
        """What the outbox worker delivers this channel's rows through."""
        ...

    def routes(self) -> Sequence[Route]:
        """The HTTP endpoints it serves on the shared server (none for the console)."""
        ...

    async def start(self) -> None:
        """Get ready to receive (called inside the running loop, before the server listens)."""
        ...

    async def stop(self, grace: float) -> None:
        """Refuse new requests, finish queued events within ``grace`` seconds, then close its SDK client.

        The server calls it after the outbox worker has stopped, so the sender is no longer in use.
        """
        ...


def shutting_down() -> web.Response:
    """The answer to a webhook request that arrives while the server stops (503: the platform sends it again)."""
    return web.Response(status=503, text="shutting down")
