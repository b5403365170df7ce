"""提醒設定 / reminder settings (class, deadline, survey reminders on or off) and 我的提醒 (what was queued)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.db.models.reminders import REMINDER_CATEGORIES
from bot.routing import Feature, Route
from bot.services.classes import format as fmt
from bot.services.reminders import first_text, opt_outs, queued_for, set_opt_out
from handlers.common import back_to_menu


@dataclass(frozen=True)
class ReminderSettings(Action, kind="rs"):
    """"提醒設定": show each category, on or off."""


@dataclass(frozen=True)
class ToggleReminders(Action, kind="rt"):
    """A category's button in the settings: switch it to ``on`` (1) or off (0)."""

    category: str
    on: int


@dataclass(frozen=True)
class MyReminders(Action, kind="rm"):
    """"我的提醒": the reminders queued for this chat account."""


async def _settings_reply(ctx: Ctx, lead: str | None = None) -> HandlerResult:
    off = await opt_outs(ctx.session, ctx.linked.id)
    lines = [lead] if lead else []
    lines.append(ctx.t("reminders.settings.title"))
    choices = []
    for category in REMINDER_CATEGORIES:
        name = ctx.t(f"reminders.category.{category}")
        state = "off" if category in off else "on"
        lines.append(ctx.t(f"reminders.settings.{state}", name=name))
        choices.append(Choice(ctx.t(f"reminders.settings.{'on' if state == 'off' else 'off'}", name=name),
                              ToggleReminders(category, 1 if state == "off" else 0)))
    choices += [ctx.choice("reminders.button.mine", MyReminders()), back_to_menu(ctx)]
    return HandlerResult([Reply.plain("\n".join(lines), choices)], intent=Intent.REMINDERS)


async def show_settings(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """Each category with its state, and a button that switches it."""
    return await _settings_reply(ctx)


async def toggle(ctx: Ctx, msg: IncomingMessage, action: ToggleReminders) -> HandlerResult:
    """Switch one category; an unknown category (a forged button) is a stale button."""
    if action.category not in REMINDER_CATEGORIES:
        return HandlerResult([Reply.plain(ctx.t("error.bad_button"), [back_to_menu(ctx)])], intent=Intent.UNKNOWN)
    await set_opt_out(ctx.session, ctx.linked.id, action.category, off=not action.on, now=ctx.app.clock.now())
    name = ctx.t(f"reminders.category.{action.category}")
    return await _settings_reply(ctx, ctx.t(f"reminders.settings.switched_{'on' if action.on else 'off'}", name=name))


async def show_mine(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """The reminders queued for this account (when, sent or why not, the first line), then those to come."""
    rows = await queued_for(ctx.session, ctx.account.id)
    coming = await _coming(ctx)
    buttons = [ctx.choice("reminders.button.settings", ReminderSettings()), back_to_menu(ctx)]
    if not rows and not coming:
        return HandlerResult([Reply.plain(ctx.t("reminders.mine.none"), buttons)], intent=Intent.REMINDERS)
    lines = [ctx.t("reminders.mine.title")] if rows else []
    for r in rows:
        status = ctx.t(f"reminders.status.{r.status}")
        lines.append(ctx.t("reminders.mine.line", when=fmt.instant_text(r.not_before, ctx.lang), status=status,
                           text=r.text))
    if coming:
        lines.append(ctx.t("reminders.mine.coming", days=_days(ctx)))
        lines += [ctx.t("reminders.mine.coming_line", when=fmt.instant_text(at, ctx.lang), text=text)
                  for at, text in coming]
    return HandlerResult([Reply.plain("\n".join(lines), buttons)], intent=Intent.REMINDERS)


def _days(ctx: Ctx) -> int:
    return ctx.app.reminders.ctx.settings.preview_days if ctx.app.reminders is not None else 0


async def _coming(ctx: Ctx) -> list[tuple[datetime, str]]:
    """The account's reminders of the coming ``preview_days`` (not queued yet), soonest first."""
    reminders = ctx.app.reminders
    if reminders is None:
        return []
    planned = await reminders.coming(ctx.session, ctx.linked.id, ctx.app.clock.now(), timedelta(days=_days(ctx)))
    return [(due.moment, first_text(row.payload)) for due, row in planned if row.account_id == ctx.account.id]


SETTINGS = Route(Intent.REMINDERS, show_settings, needs_link="reminders", screen=True)
MINE = Route(Intent.REMINDERS, show_mine, needs_link="reminders", screen=True)

FEATURE = Feature(
    name="reminders",
    actions={ReminderSettings: SETTINGS, ToggleReminders: Route(Intent.REMINDERS, toggle, needs_link="reminders"),
             MyReminders: MINE},
    intents={"reminder_settings": SETTINGS, "my_reminders": MINE},
)
