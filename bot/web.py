"""The web server (LINE webhook, health, metrics): arrives with the LINE channel issue."""

from __future__ import annotations

import sys

from bot.config import Settings


async def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> int:
    """Not built yet: say so and exit with a usage error."""
    print("abc-bot serve: the web server is not part of this build yet", file=sys.stderr)
    return 2
