"""What ``abc-bot telegram setup`` and ``abc-bot telegram poll`` do with PTB (the commands import no SDK).

:func:`install` sets the webhook (URL, secret token, the update types the bot reads) and the command
menus; :func:`poll` runs a channel (:func:`polling_channel`) by long polling, with the outbox worker the command
built, until SIGTERM or SIGINT.
Both raise :class:`SetupRefused` when Telegram refuses a call.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import TYPE_CHECKING

from telegram import BotCommand
from telegram.error import TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.channels.telegram_client import build_application
from bot.config import Settings

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.runtime import Runtime
    from bot.services.notices import DeliveryWorker

SHUTDOWN_GRACE = 20.0
Menu = list[tuple[str, str]]


class SetupRefused(Exception):
    """Telegram refused a call (the message is its answer)."""


async def install(settings: Settings, url: str, menus: dict[str, Menu], default: Menu) -> list[str]:
    """Set the webhook and the menus (per language code; ``default`` for the rest); returns lines to print."""
    assert settings.telegram_bot_token
    application = build_application(settings.telegram_bot_token, settings.telegram_api_base_url)
    lines: list[str] = []
    try:
        async with application:
            bot = application.bot
            await bot.set_webhook(url=url, secret_token=settings.telegram_webhook_secret,
                                  allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False)
            lines.append(f"webhook set: {url} (updates: {', '.join(ALLOWED_UPDATES)})")
            for code, menu in menus.items():
                await bot.set_my_commands([BotCommand(n, t) for n, t in menu], language_code=code)
                lines.append(f"commands set for language {code}: {len(menu)}")
            await bot.set_my_commands([BotCommand(n, t) for n, t in default])
            lines.append(f"commands set for every other language ({settings.default_lang})")
    except TelegramError as exc:
        raise SetupRefused(str(exc)) from exc
    return lines


def polling_channel(app: Runtime, metrics: Metrics) -> TelegramChannel:
    """The channel for long polling (only the token is needed)."""
    settings = app.settings
    assert settings.telegram_bot_token
    return TelegramChannel(app, metrics, secret=settings.telegram_webhook_secret or "",
                           application=build_application(settings.telegram_bot_token,
                                                         settings.telegram_api_base_url))


async def poll(channel: TelegramChannel, worker: DeliveryWorker | None) -> None:
    """Serve Telegram by long polling, with the outbox worker, until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            await channel.start()
        except TelegramError as exc:
            raise SetupRefused(str(exc)) from exc
        if worker is not None:
            worker.start()
        print("polling Telegram for updates (Ctrl-C stops)", file=sys.stderr)
        poller = asyncio.create_task(channel.poll(stop))
        await stop.wait()
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)
        if worker is not None:
            await worker.stop()
        await channel.stop(SHUTDOWN_GRACE)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
