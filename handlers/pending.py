"""Intents whose features come in later issues: recognised now, answered honestly."""

from __future__ import annotations

from bot.app import Ctx
from bot.conversation import HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Handler, Route
from handlers.common import Certificate, main_menu


def coming_soon(feature: str) -> Handler:
    """A handler telling a linked user the feature is coming (mark its route ``needs_link``)."""

    async def handler(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
        name = ctx.t(f"feature.{feature}")
        return HandlerResult([Reply.plain(ctx.t("pending.coming_soon", feature=name), main_menu(ctx))])

    handler.__doc__ = f"Placeholder for {feature}."
    return handler


CERTIFICATE = Route(Intent.CERTIFICATE, coming_soon("certificate"), needs_link="certificate")

FEATURE = Feature(name="certificate", actions={Certificate: CERTIFICATE}, intents={"certificate": CERTIFICATE})
