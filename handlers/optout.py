"""Employees turning off (and on again) the announcements HR marked optional; mandatory ones always arrive."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.broadcasts import set_opt_out
from handlers.common import main_menu


@dataclass(frozen=True)
class OptOut(Action, kind="ao"):
    """The button under an optional announcement (``off=1``) and the one to undo it (``off=0``)."""

    off: int


async def opt_out(ctx: Ctx, msg: IncomingMessage, action: OptOut) -> HandlerResult:
    """Turn optional announcements off or on for the linked employee; says so, with the way back."""
    off = bool(action.off)
    await set_opt_out(ctx.session, ctx.linked.id, off, now=ctx.app.clock.now())
    undo = ctx.choice("broadcasts.button.optin" if off else "broadcasts.button.optout", OptOut(off=0 if off else 1))
    text = ctx.t("broadcasts.optout.off" if off else "broadcasts.optout.on")
    return HandlerResult([Reply.plain(text, [undo, *main_menu(ctx)])], state=None, intent=Intent.ANNOUNCE)


FEATURE = Feature(name="optout", actions={OptOut: Route(Intent.ANNOUNCE, opt_out, needs_link="optout")})
