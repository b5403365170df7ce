"""The clarifying question: text that could be either of two commands ("您是想要：取消報名／查看我的報名").

The dispatcher sends text here when two rules are about equally likely (:class:`bot.intents.Understanding`
with decision ``clarify``). The question offers both as buttons; the text is kept in the conversation state so
that the rule picked gets its argument from it ("取消 python" → cancelling python). The pick is answered
by the dispatcher as that command (:class:`bot.conversation.Redirect`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Redirect, Reply
from bot.intents import Understanding
from bot.navigation import may_keep
from bot.routing import Feature, Route
from handlers.common import back_to_menu, main_menu

STATE = "clarify.asked"


@dataclass(frozen=True)
class PickIntent(Action, kind="pk"):
    """One answer of a clarifying question: the rule of data/intents.yaml it stands for."""

    rule: str


def option_label(ctx: Ctx, rule: str) -> str:
    """The button of a rule in a clarifying question (its ``label`` text)."""
    return ctx.t(ctx.app.intents.label_key(rule) or "clarify.option.smalltalk")


async def ask(ctx: Ctx, msg: IncomingMessage, understood: Understanding) -> HandlerResult:
    """Ask which of the two likely rules the user meant; both are buttons, with the main menu."""
    first, second = understood.options
    labels = option_label(ctx, first), option_label(ctx, second)
    text = ctx.t("clarify.question", first=labels[0], second=labels[1])
    choices = [Choice(labels[0], PickIntent(first)), Choice(labels[1], PickIntent(second)), back_to_menu(ctx)]
    kept = {"q": understood.text} if may_keep(understood.text) else {}
    return HandlerResult([Reply.plain(text, choices)], state=STATE, data=kept, intent=Intent.CLARIFY)


async def picked(ctx: Ctx, msg: IncomingMessage, action: PickIntent) -> HandlerResult:
    """The user chose one: answer as that command, with its argument taken from the text asked about."""
    if action.rule not in ctx.app.intents.names:
        return HandlerResult([Reply.plain(ctx.t("clarify.stale"), main_menu(ctx))], intent=Intent.UNKNOWN)
    text = ctx.data.get("q") if ctx.state == STATE else None
    argument = ctx.app.intents.argument(action.rule, text) if isinstance(text, str) else ""
    return HandlerResult([], state=None, data={}, redirect=Redirect(rule=action.rule, text=argument))


CLARIFY = Route(Intent.CLARIFY, ask)

FEATURE = Feature(name="clarify", actions={PickIntent: Route(Intent.CLARIFY, picked)})
