"""Greeting, help/main menu and language switching; the answers to what no feature handles."""

from __future__ import annotations

from bot.app import Ctx
from bot.conversation import Choice, HandlerResult, IncomingMessage, Intent, Redirect, Reply
from bot.routing import Feature, Route
from bot.services.notices import load_refollow_policy, resend_missed
from handlers.common import SetLang, ShowHelp, answer, bind_button, main_menu


def _greeting(ctx: Ctx) -> str:
    if ctx.employee is not None:
        return ctx.t("menu.greeting", name=ctx.employee.name)
    return ctx.t("menu.greeting_anonymous")


def _first_steps(ctx: Ctx) -> list[Reply]:
    """The greeting; for an unlinked user, how to link first, with the link button leading the menu."""
    if ctx.employee is not None:
        return [Reply.plain(_greeting(ctx))]
    return [Reply.plain(f"{_greeting(ctx)}\n{ctx.t('welcome.bind_first')}")]


def _menu(ctx: Ctx) -> list[Choice]:
    return main_menu(ctx) if ctx.employee is not None else [bind_button(ctx), *main_menu(ctx)]


async def show_help(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """Greet, explain what the bot does and show the main menu; leaves any flow (state cleared).

    An unlinked user is told how to link first, and the menu starts with the link button.
    """
    return HandlerResult([*_first_steps(ctx), Reply.plain(ctx.t("menu.help"), _menu(ctx))], state=None)


async def go_back(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """"返回" / "上一頁" / "back": the screen before this one (the dispatcher remembers them); else the menu."""
    if ctx.can_go_back:
        return HandlerResult([], redirect=Redirect(back=True))
    return HandlerResult([Reply.plain(ctx.t("back.nothing"), main_menu(ctx))], state=None, intent=Intent.HELP)


async def nothing_to_cancel(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """"取消" / "never mind" outside any flow (e.g. instead of pressing "先不要"): nothing was changed; the menu."""
    return HandlerResult([Reply.plain(ctx.t("menu.nothing_changed"), main_menu(ctx))], state=None)


async def welcome(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """A new or returning follower: greet (an unlinked one: how to link first) and show the menu.

    A returning follower also gets the notices that could not reach them while they had blocked the bot
    (queued again for the delivery worker; data/refollow.yaml says which).
    """
    replies = _first_steps(ctx)
    missed = await resend_missed(ctx.session, ctx.account.id, policy=load_refollow_policy(ctx.app.settings.data_dir),
                                 now=ctx.app.clock.now())
    if missed:
        replies.append(Reply.plain(ctx.t("refollow.missed_one") if missed == 1 else
                                   ctx.t("refollow.missed", count=missed)))
    replies[-1] = Reply.plain(replies[-1].text, _menu(ctx))
    return HandlerResult(replies, state=None)


async def _switch(ctx: Ctx, lang: str) -> HandlerResult:
    ctx.account.lang = lang
    return HandlerResult([Reply.plain(ctx.t("lang.switched"), main_menu(ctx))], intent=Intent.HELP)


async def lang_en(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """Switch the user's language to English."""
    return await _switch(ctx, "en")


async def lang_zh(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """Switch the user's language to Traditional Chinese."""
    return await _switch(ctx, "zh-TW")


async def lang_button(ctx: Ctx, msg: IncomingMessage, action: SetLang) -> HandlerResult:
    """The language button: it carries the language to switch to."""
    return await _switch(ctx, "en" if action.lang == "en" else "zh-TW")


async def bad_button(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """A stale or forged button payload: say so politely and offer the menu."""
    return answer(ctx, "error.bad_button", Intent.UNKNOWN)


async def unsupported(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """A sticker, video, location …: say what the bot understands."""
    return answer(ctx, "error.unsupported_message", Intent.UNKNOWN)


async def too_long(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """A message over the length limit: say so (never repeating it), with the menu."""
    return HandlerResult([Reply.plain(ctx.t("error.too_long"), main_menu(ctx))], intent=Intent.UNKNOWN)


HELP = Route(Intent.HELP, show_help, screen=True)

FEATURE = Feature(
    name="menu",
    actions={ShowHelp: HELP, SetLang: Route(Intent.HELP, lang_button)},
    intents={
        "lang_en": Route(Intent.HELP, lang_en),
        "lang_zh": Route(Intent.HELP, lang_zh),
        "help": HELP,
        "back": Route(Intent.HELP, go_back),
        "abort": Route(Intent.HELP, nothing_to_cancel),
    },
    escapes=frozenset({"help", "back", "lang_en", "lang_zh"}),
)
