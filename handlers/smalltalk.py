"""Small talk (thanks, bye, ok, good morning, who are you) and questions outside the bot's job.

Each gets one friendly line with the main menu, in the user's language. A question outside the bot's job
(請假, 薪水, 人事室電話, 真人客服 …) is pointed to the personnel office of the user's agency.
"""

from __future__ import annotations

from bot.app import Ctx
from bot.conversation import HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Handler, Route
from handlers.common import main_menu

KINDS = ("thanks", "bye", "ok", "greeting", "who")
"""The small-talk rules of data/intents.yaml are ``smalltalk_<kind>``; each answers with ``smalltalk.<kind>``."""


def _answer(kind: str) -> Handler:
    async def handler(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
        return HandlerResult([Reply.plain(ctx.t(f"smalltalk.{kind}"), main_menu(ctx))], intent=Intent.SMALLTALK)

    handler.__doc__ = f"Small talk: answer {kind!r} in one line, with the menu."
    return handler


def personnel_office(ctx: Ctx) -> str:
    """Where personnel questions go: the personnel office of the user's agency (or "your agency's")."""
    employee = ctx.employee
    if employee is not None and employee.agency:
        return ctx.t("out_of_scope.office_of", agency=employee.agency)
    return ctx.t("out_of_scope.office")


async def out_of_scope(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """請假 / 薪水 / 真人客服 …: say it is not the bot's job and point to the personnel office."""
    text = ctx.t("out_of_scope.answer", office=personnel_office(ctx))
    return HandlerResult([Reply.plain(text, main_menu(ctx))], intent=Intent.OUT_OF_SCOPE)


FEATURE = Feature(
    name="smalltalk",
    intents={**{f"smalltalk_{k}": Route(Intent.SMALLTALK, _answer(k)) for k in KINDS},
             "out_of_scope": Route(Intent.OUT_OF_SCOPE, out_of_scope)},
)
