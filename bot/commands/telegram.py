"""Commands of the Telegram channel: ``abc-bot telegram setup --url URL [--dry-run]`` and ``abc-bot telegram poll``.

``setup`` tells Telegram where the webhook is (``setWebhook`` with the URL, the secret token of
``TELEGRAM_WEBHOOK_SECRET`` and the update types the bot reads) and sets the command menu in Chinese and
English (``setMyCommands`` with ``language_code`` zh and en, and once without one in ``DEFAULT_LANG``).
``poll`` runs the bot by long polling (``getUpdates``) for development without a public URL: the same
intake, handlers and outbox worker as ``serve``; it removes the webhook first. Exit codes: 0 done, 1
Telegram refused, 2 a missing or malformed setting or argument.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from bot.commands import CommandGroups
from bot.commands.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, err
from bot.config import Settings

if TYPE_CHECKING:
    from bot.texts import MessageCatalog

SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
"""What Telegram accepts as a webhook secret token."""
MENU = {"zh-TW": ("start", "courses", "hours", "bind", "help", "en"),
        "en": ("start", "courses", "hours", "bind", "help", "zh")}
"""The command menu per language; each command is an exact phrase of data/intents.yaml (``/en``, ``/zh`` switch)."""
TELEGRAM_LANGS = {"zh-TW": "zh", "en": "en"}


def commands_for(texts: MessageCatalog, lang: str) -> list[tuple[str, str]]:
    """The (command, description) pairs of the menu in ``lang``."""
    keys = {"en": "lang", "zh": "lang"}
    return [(name, texts.get(f"telegram.command.{keys.get(name, name)}", lang)) for name in MENU[lang]]


def _problem(settings: Settings, *, secret: bool) -> str | None:
    if not settings.telegram_bot_token:
        return "TELEGRAM_BOT_TOKEN is not set"
    if secret and not settings.telegram_webhook_secret:
        return "TELEGRAM_WEBHOOK_SECRET is not set"
    if secret and not SECRET_FORMAT.match(settings.telegram_webhook_secret or ""):
        return "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
    return None


async def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    """Set the webhook (URL, secret, allowed updates) and the command menu in zh-TW and English."""
    from bot.channels.telegram import ALLOWED_UPDATES
    from bot.texts import MessageCatalog

    url: str = args.url
    if not url.startswith("https://"):
        err("abc-bot telegram setup: --url must be an https:// address (Telegram posts only to HTTPS)")
        return EXIT_USAGE
    problem = _problem(settings, secret=True)
    texts = MessageCatalog.load()
    menus = {lang: commands_for(texts, lang) for lang in TELEGRAM_LANGS}
    if args.dry_run:
        print(f"would set the webhook: {url} (secret token from TELEGRAM_WEBHOOK_SECRET; "
              f"updates: {', '.join(ALLOWED_UPDATES)})")
        for lang, menu in menus.items():
            print(f"would set the commands for language {TELEGRAM_LANGS[lang]}: "
                  + ", ".join(f"/{name} {text}" for name, text in menu))
        print(f"would set the commands for every other language: those of {settings.default_lang}")
        return EXIT_OK
    if problem is not None:
        err(f"abc-bot telegram setup: {problem}")
        return EXIT_USAGE
    return await _setup(settings, url, menus)


async def _setup(settings: Settings, url: str, menus: dict[str, list[tuple[str, str]]]) -> int:
    from bot.channels.telegram_setup import SetupRefused, install

    assert settings.telegram_bot_token
    try:
        for line in await install(settings, url, {TELEGRAM_LANGS[lang]: menu for lang, menu in menus.items()},
                                  menus[settings.default_lang]):
            print(line)
    except SetupRefused as exc:
        err(f"abc-bot telegram setup: Telegram refused: {exc}")
        return EXIT_REFUSED
    return EXIT_OK


async def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot by long polling until SIGTERM or SIGINT (development, no public URL needed)."""
    from bot.bootstrap import build_app, build_worker
    from bot.channels.telegram_setup import SetupRefused, poll, polling_channel
    from bot.metrics import Metrics

    problem = _problem(settings, secret=False)
    if problem is not None:
        err(f"abc-bot telegram poll: {problem}")
        return EXIT_USAGE
    app = await build_app(settings)
    try:
        metrics = Metrics()
        channel = polling_channel(app, metrics)
        await poll(channel, build_worker(app, [channel], metrics=metrics))
    except SetupRefused as exc:
        err(f"abc-bot telegram poll: Telegram refused: {exc}")
        return EXIT_REFUSED
    finally:
        await app.close()
    return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add ``abc-bot telegram setup|poll``."""
    telegram = groups.top.add_parser("telegram", help="Telegram channel set-up and development polling")
    sub = telegram.add_subparsers(dest="telegram_command", required=True)
    p = sub.add_parser("setup", help="set the webhook and the command menu (zh-TW and English)")
    p.add_argument("--url", required=True, help="the public https URL of POST /webhooks/telegram")
    p.add_argument("--dry-run", action="store_true", help="print what would be set; call nothing")
    p.set_defaults(func=cmd_setup, log="WARNING")
    p = sub.add_parser("poll", help="run the bot by long polling (development, no public URL)")
    p.set_defaults(func=cmd_poll, log="INFO")
