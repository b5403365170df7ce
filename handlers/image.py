"""A photo from the user: until the certificate feature arrives, say what will happen with it.

The channel has already fetched the photo (size-capped) into ``msg.image`` or set ``msg.image_problem``
(``too_large``, ``unavailable``, ``external``); the certificate issue replaces this handler.
"""

from __future__ import annotations

from bot.app import Ctx
from bot.conversation import MAX_IMAGE_BYTES, HandlerResult, IncomingMessage, Intent, Reply
from handlers.common import main_menu


async def received_image(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """Explain the coming certificate flow, or what went wrong with the photo."""
    if msg.image_problem == "too_large":
        text = ctx.t("line.image.too_large", limit_mb=MAX_IMAGE_BYTES // (1024 * 1024))
    elif msg.image_problem is not None or msg.image is None:
        text = ctx.t("line.image.unavailable")
    elif ctx.employee is None:
        text = ctx.t("line.image.bind_first")
    else:
        text = ctx.t("line.image.received")
    return HandlerResult([Reply.plain(text, main_menu(ctx))], intent=Intent.CERTIFICATE)
