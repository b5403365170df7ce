"""HR announcements in chat: 發布公告 / announce → audience buttons → text → preview with the cost → confirm; 公告紀錄.

The same service calls as ``abc-bot broadcast`` (docs/cli.md, "Broadcasts"): the officer's scope is
checked at the preview and again at the confirmation; a city admin also gets "everyone". The audience
and the text wait in the conversation state between the steps; the confirmation button carries a
fingerprint of them, so a button from an older preview is answered as stale.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.accounts import Scope, scope_of
from bot.services.broadcasts import (
    AudienceError,
    ComposeError,
    Content,
    Plan,
    Refused,
    audit_refusal,
    build_report,
    list_broadcasts,
    make_plan,
    parse_audience,
    send,
)
from bot.services.notices.quiet import load_quiet_hours
from handlers.common import back_to_menu, main_menu

STATE_TEXT = "broadcast.text"
AUDIENCES = ("all", "gap:mandatory", "gap:total")
"""The audience buttons, each inside the officer's agency (a city admin's ``all`` is the whole city)."""
CITY_CHOICE = len(AUDIENCES)
"""The choice of a city admin's 全市同仁 button (``aa|3|0``; payload numbers cannot be negative)."""


@dataclass(frozen=True)
class PickAudience(Action, kind="aa"):
    """An audience button of the announcement flow: which of :data:`AUDIENCES`, and for which agency (index)."""

    choice: int
    agency: int


@dataclass(frozen=True)
class ConfirmAnnounce(Action, kind="ac"):
    """"Send" on the preview; ``fingerprint`` is the CRC-32 of the audience and text it previewed."""

    fingerprint: int


@dataclass(frozen=True)
class DropAnnounce(Action, kind="ad"):
    """"Not now" on the preview."""


def _fingerprint(spec: str, text: str) -> int:
    return zlib.crc32(f"{spec}\n{text}".encode())


def _answer(ctx: Ctx, text: str, *, menu: bool = True) -> HandlerResult:
    return HandlerResult([Reply.plain(text, main_menu(ctx) if menu else [back_to_menu(ctx)])], state=None,
                         intent=Intent.ANNOUNCE)


async def _scope(ctx: Ctx) -> Scope:
    return await scope_of(ctx.session, ctx.linked)


def _spec(scope: Scope, choice: int, agency: int) -> str | None:
    """The SPEC of an audience button (None for a button this scope does not have)."""
    agencies = sorted(scope.agencies)
    if choice == CITY_CHOICE and scope.city:
        return "all"
    if not 0 <= agency < len(agencies) or not 0 <= choice < len(AUDIENCES):
        return None
    term = AUDIENCES[choice]
    return f"agency:{agencies[agency]}" + ("" if term == "all" else f",{term}")


async def announce(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """發布公告: HR only; audience buttons (their agency; with a mandatory gap; any gap; a city admin: everyone)."""
    scope = await _scope(ctx)
    if not scope.is_hr:
        return _answer(ctx, ctx.t("broadcasts.chat.not_hr"))
    buttons = []
    if scope.city:
        buttons.append(ctx.choice("broadcasts.chat.audience_city", PickAudience(CITY_CHOICE, 0)))
    for i, agency in enumerate(sorted(scope.agencies)):
        for choice in range(len(AUDIENCES)):
            label = ctx.t(f"broadcasts.chat.audience_{choice}")
            buttons.append(Choice(label if len(scope.agencies) == 1 else f"{agency}：{label}", PickAudience(choice, i)))
    return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.pick"), buttons)], state=None, intent=Intent.ANNOUNCE)


async def pick_audience(ctx: Ctx, msg: IncomingMessage, action: PickAudience) -> HandlerResult:
    """An audience was chosen: ask for the text (the flow waits in :data:`STATE_TEXT`)."""
    spec = _spec(await _scope(ctx), action.choice, action.agency)
    if spec is None:
        return _answer(ctx, ctx.t("broadcasts.chat.not_hr"))
    ask = ctx.t("broadcasts.chat.ask_text", name="{name}")
    return HandlerResult([Reply.plain(ask, [back_to_menu(ctx)])], state=STATE_TEXT,
                         data={"spec": spec}, intent=Intent.ANNOUNCE)


def _preview_text(ctx: Ctx, plan: Plan) -> str:
    c = plan.counts()
    unreachable = sum(c["unreachable"].values())
    return ctx.t("broadcasts.chat.preview", audience=plan.audience.spec, people=c["people"],
                 recipients=c["recipients"], unreachable=unreachable, cost=c["cost"],
                 agencies="、".join(f"{a} {n}" for a, n in c["by_agency"].items()) or "-",
                 sample=plan.sample(ctx.lang) or "-")


async def _plan(ctx: Ctx, spec: str, text: str) -> Plan:
    return await make_plan(ctx.session, parse_audience(spec, ctx.app.rules), Content(text), scope=await _scope(ctx),
                           rules=ctx.app.rules, today=ctx.app.clock.now().date())


async def got_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """The announcement's text: check it, count who it reaches and what it costs, ask to confirm."""
    spec = str(ctx.data.get("spec", ""))
    text = (msg.text or "").strip()
    stop = ctx.app.intents.command(text)
    if stop is not None and stop.name == "abort":  # 取消 / cancel: the flow ends, nothing is sent
        return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.dropped"), main_menu(ctx))], state=None, data={},
                             intent=Intent.ANNOUNCE)
    try:
        plan = await _plan(ctx, spec, text)
    except (AudienceError, ComposeError) as exc:
        return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.bad_text", reason=str(exc)), [back_to_menu(ctx)])],
                             intent=Intent.ANNOUNCE)
    except Refused as exc:
        await audit_refusal(ctx.session, actor=ctx.actor, actor_employee_id=ctx.linked.id,
                            action="broadcasts.preview", spec=spec, reason=str(exc), now=ctx.app.clock.now())
        return _answer(ctx, ctx.t("broadcasts.chat.refused"))
    yes = ctx.choice("broadcasts.chat.send", ConfirmAnnounce(_fingerprint(spec, text)))
    no = ctx.choice("broadcasts.chat.not_now", DropAnnounce())
    return HandlerResult([Reply.confirm(_preview_text(ctx, plan), yes, no)], state=None,
                         data={"spec": spec, "text": text, "preview": True}, intent=Intent.ANNOUNCE)


async def confirm(ctx: Ctx, msg: IncomingMessage, action: ConfirmAnnounce) -> HandlerResult:
    """Send what was previewed (scope checked again); says the announcement's number and how many it reaches."""
    spec, text = str(ctx.data.get("spec", "")), str(ctx.data.get("text", ""))
    if not ctx.data.get("preview") or _fingerprint(spec, text) != action.fingerprint:
        return _answer(ctx, ctx.t("error.bad_button"))
    now = ctx.app.clock.now()
    try:
        plan = await _plan(ctx, spec, text)
        sent = await send(ctx.session, plan, actor=ctx.actor, actor_employee_id=ctx.linked.id, now=now,
                          notifier=ctx.app.deps.notices, quiet=load_quiet_hours(ctx.app.settings.data_dir))
    except (AudienceError, ComposeError, Refused) as exc:
        await audit_refusal(ctx.session, actor=ctx.actor, actor_employee_id=ctx.linked.id, action="broadcasts.send",
                            spec=spec, reason=str(exc), now=now)
        return _answer(ctx, ctx.t("broadcasts.chat.refused"))
    key = "broadcasts.chat.moved" if sent.moved else "broadcasts.chat.sent"
    return HandlerResult([Reply.plain(ctx.t(key, id=sent.broadcast.id, recipients=plan.recipients), main_menu(ctx))],
                         state=None, data={}, intent=Intent.ANNOUNCE)


async def drop(ctx: Ctx, msg: IncomingMessage, action: DropAnnounce) -> HandlerResult:
    """"Not now": nothing is sent."""
    return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.dropped"), main_menu(ctx))], state=None, data={},
                         intent=Intent.ANNOUNCE)


async def history(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """公告紀錄: the officer's latest announcements with their delivery reports."""
    scope = await _scope(ctx)
    if not scope.is_hr:
        return _answer(ctx, ctx.t("broadcasts.chat.not_hr"))
    rows = await list_broadcasts(ctx.session, scope=scope, rules=ctx.app.rules, limit=5)
    if not rows:
        return _answer(ctx, ctx.t("broadcasts.chat.none"))
    lines = []
    for b in rows:
        t = (await build_report(ctx.session, b)).totals
        lines.append(ctx.t("broadcasts.chat.report_line", id=b.id, audience=b.audience, sent=t.get("sent", 0),
                           queued=t.get("queued", 0), failed=t.get("failed", 0), skipped=t.get("skipped", 0)))
    return _answer(ctx, ctx.t("broadcasts.chat.history") + "\n" + "\n".join(lines))


FEATURE = Feature(
    name="broadcast",
    actions={PickAudience: Route(Intent.ANNOUNCE, pick_audience, needs_link="announce"),
             ConfirmAnnounce: Route(Intent.ANNOUNCE, confirm, needs_link="announce"),
             DropAnnounce: Route(Intent.ANNOUNCE, drop, needs_link="announce")},
    intents={"announce": Route(Intent.ANNOUNCE, announce, needs_link="announce"),
             "announce_history": Route(Intent.ANNOUNCE, history, needs_link="announce")},
    states={STATE_TEXT: Route(Intent.ANNOUNCE, got_text, needs_link="announce")},
)
