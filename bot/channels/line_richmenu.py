"""The default LINE rich menu: six areas (A / B / C tracks, my hours, my enrollments, help) and its image.

The image is drawn with Pillow at LINE's full size (2500 × 1686). Labels are drawn in the default
language when a font with Chinese glyphs is installed (Noto Sans CJK, WenQuanYi …, or the file named by
``RICHMENU_FONT``); otherwise in English, so the command works on a bare server. Each area is a postback
with the same typed payload as the chat's own buttons, so a tap is handled like a button press.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from bot.channels.line_render import MAX_ACTION_LABEL, fit
from bot.conversation import Action
from bot.texts import MessageCatalog
from handlers.browse import ShowTrack
from handlers.common import MyEnrollments, ShowHelp, ShowHours

WIDTH, HEIGHT = 2500, 1686
MENU_NAME = "abc-bot main menu"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
LATIN_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
COLOURS = ("#1565C0", "#2E7D32", "#C62828", "#455A64", "#6A1B9A", "#EF6C00")


@dataclass(frozen=True)
class Area:
    """One tappable area: its text key, what a tap does, and the big mark drawn on it."""

    key: str
    action: Action
    mark: str


AREAS = (
    Area("line.richmenu.track_a", ShowTrack("A"), "A"),
    Area("line.richmenu.track_b", ShowTrack("B"), "B"),
    Area("line.richmenu.track_c", ShowTrack("C"), "C"),
    Area("line.richmenu.hours", ShowHours(), "◔"),
    Area("line.richmenu.enrollments", MyEnrollments(), "✓"),
    Area("line.richmenu.help", ShowHelp(), "?"),
)


def cjk_font() -> str | None:
    """A font file that can draw Chinese, if this machine has one."""
    configured = os.environ.get("RICHMENU_FONT")
    for path in ((configured,) if configured else ()) + FONT_CANDIDATES:
        if path and Path(path).is_file():
            return path
    return None


def _bounds(index: int) -> dict[str, int]:
    col, row = index % 3, index // 3
    x0, x1 = WIDTH * col // 3, WIDTH * (col + 1) // 3
    y0, y1 = HEIGHT * row // 2, HEIGHT * (row + 1) // 2
    return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}


def menu_request(texts: MessageCatalog, lang: str) -> dict[str, Any]:
    """The rich menu object (LINE's JSON) with postback areas."""
    areas = []
    for index, area in enumerate(AREAS):
        label = texts.get(area.key, lang)
        areas.append({"bounds": _bounds(index), "action": {
            "type": "postback", "label": fit(label, MAX_ACTION_LABEL), "data": area.action.pack(),
            "displayText": label}})
    return {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True, "name": MENU_NAME,
            "chatBarText": fit(texts.get("line.richmenu.chat_bar", lang), 14), "areas": areas}


def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path:
        return ImageFont.truetype(path, size)
    if Path(LATIN_FONT).is_file():
        return ImageFont.truetype(LATIN_FONT, size)
    return ImageFont.load_default(size=size)


def menu_image(texts: MessageCatalog, lang: str) -> tuple[bytes, str]:
    """The menu's PNG and the language its labels were drawn in (English when no CJK font is found)."""
    font_path = cjk_font()
    draw_lang = lang if font_path or lang == "en" else "en"
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    mark_font = _font(font_path, 300)
    for index, area in enumerate(AREAS):
        b = _bounds(index)
        box = (b["x"] + 12, b["y"] + 12, b["x"] + b["width"] - 12, b["y"] + b["height"] - 12)
        draw.rounded_rectangle(box, radius=48, fill=COLOURS[index])
        centre_x = b["x"] + b["width"] // 2
        draw.text((centre_x, b["y"] + b["height"] * 0.40), area.mark, font=mark_font, fill="white", anchor="mm")
        label = texts.get(area.key, draw_lang)
        size = 110
        label_font = _font(font_path, size)
        while size > 40 and draw.textlength(label, font=label_font) > b["width"] - 120:
            size -= 6
            label_font = _font(font_path, size)
        draw.text((centre_x, b["y"] + b["height"] * 0.80), label, font=label_font, fill="white", anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), draw_lang


class RichMenuError(Exception):
    """LINE refused a rich-menu call: its HTTP status and reason (no SDK type leaks out of this module)."""

    def __init__(self, status: int | None, reason: str | None) -> None:
        super().__init__(f"LINE answered {status} {reason}")
        self.status, self.reason = status, reason


async def install(access_token: str, base_url: str | None, menu: dict[str, Any], png: bytes) -> tuple[str, list[str]]:
    """Create the menu, upload its image, make it the default, delete older menus of ours.

    Returns the new menu's id and the ids deleted.

    Raises:
        RichMenuError: LINE refused one of the calls.
    """
    from linebot.v3.messaging import ApiException

    try:
        return await _install(access_token, base_url, menu, png)
    except ApiException as exc:
        raise RichMenuError(exc.status, exc.reason) from exc


async def _install(access_token: str, base_url: str | None, menu: dict[str, Any], png: bytes) -> tuple[str, list[str]]:
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        AsyncMessagingApiBlob,
        Configuration,
        RichMenuRequest,
    )

    config = Configuration(access_token=access_token, host=base_url.rstrip("/") if base_url else None)
    async with AsyncApiClient(config) as client:
        api, blob = AsyncMessagingApi(client), AsyncMessagingApiBlob(client)
        created = await api.create_rich_menu(RichMenuRequest.from_dict(menu), _request_timeout=30)
        menu_id = created.rich_menu_id
        # Without an explicit Content-Type the SDK sends JSON and fails (SDK-NOTES §1).
        await blob.set_rich_menu_image(menu_id, body=png, _headers={"Content-Type": "image/png"},
                                       _request_timeout=60)
        await api.set_default_rich_menu(menu_id, _request_timeout=30)
        listed = await api.get_rich_menu_list(_request_timeout=30)
        deleted = []
        for old in listed.richmenus or []:
            if old.name == MENU_NAME and old.rich_menu_id != menu_id:
                await api.delete_rich_menu(old.rich_menu_id, _request_timeout=30)
                deleted.append(old.rich_menu_id)
    return menu_id, deleted
