"""Commands of the LINE channel: ``abc-bot line richmenu [--dry-run]``."""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands import CommandGroups
from bot.config import Settings


async def cmd_richmenu(args: argparse.Namespace, settings: Settings) -> int:
    """Create the default rich menu (image drawn here), upload it and make it the default."""
    from bot.channels.line_richmenu import RichMenuError, install, menu_image, menu_request
    from bot.texts import MessageCatalog

    texts = MessageCatalog.load()
    menu = menu_request(texts, settings.default_lang)
    png, drawn_in = menu_image(texts, settings.default_lang)
    if drawn_in != settings.default_lang:
        print(f"note: no font with Chinese glyphs found; the image labels are in {drawn_in} "
              "(install fonts-noto-cjk or set RICHMENU_FONT)", file=sys.stderr)
    if args.dry_run:
        print("would create this rich menu:")
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        print(f"would upload its image: image/png, {len(png)} bytes, 2500x1686, labels in {drawn_in}")
        print(f"would set it as the default rich menu and delete older menus named {menu['name']!r}")
        return 0
    if not settings.line_channel_access_token:
        print("abc-bot line richmenu: LINE_CHANNEL_ACCESS_TOKEN is not set", file=sys.stderr)
        return 2
    try:
        menu_id, deleted = await install(settings.line_channel_access_token, settings.line_api_base_url, menu, png)
    except RichMenuError as exc:
        print(f"abc-bot line richmenu: {exc}", file=sys.stderr)
        return 1
    print(f"rich menu {menu_id} created and set as default" + (f"; deleted {', '.join(deleted)}" if deleted else ""))
    return 0


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
    p = groups.line.add_parser("richmenu", help="create the default rich menu and set it as default")
    p.add_argument("--dry-run", action="store_true", help="print what would be done; call nothing")
    p.set_defaults(func=cmd_richmenu, log="WARNING")
