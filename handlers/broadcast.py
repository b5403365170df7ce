"""HR announcements in chat: 發布公告 / announce → audience buttons → text → preview with the cost → confirm; 公告紀錄.

The same service calls as ``abc-bot broadcast`` (docs/cli.md, "Broadcasts"): the officer's scope is
checked at the preview and again at the confirmation; a city admin also gets "everyone". The audience
and the text wait in the conversation state between the steps; the confirmation button carries a
fingerprint of them, so a button from an older preview is answered as stale.

The preview shows what is left of LINE's monthly quota (``App.insights``, LINE's quota endpoints, as the
CLI reads them). When the announcement costs more than that, it is not sent: a city admin gets 仍要發送
("send anyway", the CLI's ``--force``), an agency officer is told to ask the city's 人事處 or to narrow the
audience. The preview also makes the announcement optional (people may turn such ones off) or necessary.
公告紀錄 lists the latest five; each opens its report: per agency, the reasons, LINE's opens and clicks.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass

from bot.app import Ctx
from bot.clock import TAIPEI, taipei_today
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.dates import format_roc
from bot.routing import Feature, Route
from bot.services.accounts import Scope, scope_of
from bot.services.broadcasts import (
    AudienceError,
    ComposeError,
    Content,
    Insights,
    Plan,
    Refused,
    audit_refusal,
    build_report,
    get_broadcast,
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


@dataclass(frozen=True)
class PickAudience(Action, kind="aa"):
    """An audience button of the announcement flow: which of :data:`AUDIENCES`, and for which agency (index)."""

    choice: int
    agency: int


@dataclass(frozen=True)
class PickCityAudience(Action, kind="ae"):
    """A city admin's audience button for the whole city: which of :data:`AUDIENCES` (0: everyone)."""

    choice: int


@dataclass(frozen=True)
class ConfirmAnnounce(Action, kind="ac"):
    """"Send" on the preview; ``fingerprint`` is the CRC-32 of the audience, text and kind it previewed."""

    fingerprint: int


@dataclass(frozen=True)
class ForceAnnounce(Action, kind="af"):
    """仍要發送 ("send anyway") on a preview that costs more than LINE's quota left: a city admin's only."""

    fingerprint: int


@dataclass(frozen=True)
class MarkOptional(Action, kind="ax"):
    """On the preview: make the announcement optional (``on=1``: people may turn such ones off) or necessary."""

    on: int


@dataclass(frozen=True)
class DropAnnounce(Action, kind="ad"):
    """"Not now" on the preview."""


@dataclass(frozen=True)
class ShowReport(Action, kind="ar"):
    """One announcement's delivery report (公告紀錄 → an announcement)."""

    broadcast_id: int


def _fingerprint(spec: str, text: str, optional: bool = False) -> int:
    return zlib.crc32(f"{spec}\n{text}".encode() + (b"\noptional" if optional else b""))


def _answer(ctx: Ctx, text: str, *, menu: bool = True) -> HandlerResult:
    return HandlerResult([Reply.plain(text, main_menu(ctx) if menu else [back_to_menu(ctx)])], state=None,
                         intent=Intent.ANNOUNCE)


async def _scope(ctx: Ctx) -> Scope:
    return await scope_of(ctx.session, ctx.linked)


def _spec(scope: Scope, choice: int, agency: int | None) -> str | None:
    """The SPEC of an audience button (``agency`` None: the whole city; None for a button this scope lacks)."""
    agencies = sorted(scope.agencies)
    if agency is None:
        return AUDIENCES[choice] if scope.city and 0 <= choice < len(AUDIENCES) else None
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
        buttons.append(ctx.choice("broadcasts.chat.audience_city", PickCityAudience(0)))
    for i, agency in enumerate(sorted(scope.agencies)):
        for choice in range(len(AUDIENCES)):
            label = ctx.t(f"broadcasts.chat.audience_{choice}")
            buttons.append(Choice(label if len(scope.agencies) == 1 else f"{agency}：{label}", PickAudience(choice, i)))
    return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.pick"), buttons)], state=None, intent=Intent.ANNOUNCE)


async def pick_audience(ctx: Ctx, msg: IncomingMessage, action: PickAudience | PickCityAudience) -> HandlerResult:
    """An audience was chosen: ask for the text (the flow waits in :data:`STATE_TEXT`)."""
    spec = _spec(await _scope(ctx), action.choice, action.agency if isinstance(action, PickAudience) else None)
    if spec is None:
        return _answer(ctx, ctx.t("broadcasts.chat.not_hr"))
    ask = ctx.t("broadcasts.chat.ask_text", name="{name}")
    return HandlerResult([Reply.plain(ask, [back_to_menu(ctx)])], state=STATE_TEXT,
                         data={"spec": spec}, intent=Intent.ANNOUNCE)


def _quota_line(ctx: Ctx, plan: Plan) -> str:
    """What is left of LINE's month, and whether this is more than that."""
    remaining = plan.quota.remaining if plan.quota else None
    if plan.cost and plan.over_quota:
        return ctx.t("broadcasts.chat.quota_over", cost=plan.cost, remaining=remaining)
    if not plan.cost:
        return ctx.t("broadcasts.chat.quota_not_used")
    if remaining is None:
        return ctx.t("broadcasts.chat.quota_unlimited" if plan.quota else "broadcasts.chat.quota_unknown")
    return ctx.t("broadcasts.chat.quota_left", remaining=remaining)


def _preview_text(ctx: Ctx, plan: Plan) -> str:
    c = plan.counts()
    unreachable = sum(c["unreachable"].values())
    kind = ctx.t("broadcasts.chat.kind_optional" if plan.optional else "broadcasts.chat.kind_necessary")
    return ctx.t("broadcasts.chat.preview", audience=plan.audience.spec, people=c["people"],
                 recipients=c["recipients"], unreachable=unreachable, cost=c["cost"],
                 agencies="、".join(f"{a} {n}" for a, n in c["by_agency"].items()) or "-",
                 sample=plan.sample(ctx.lang) or "-", quota=_quota_line(ctx, plan), kind=kind)


async def _plan(ctx: Ctx, spec: str, text: str, optional: bool) -> Plan:
    """The announcement worked out with LINE's quota (read from LINE where the app has it)."""
    async with _insights(ctx) as insights:
        return await make_plan(ctx.session, parse_audience(spec, ctx.app.rules), Content(text),
                               scope=await _scope(ctx), rules=ctx.app.rules, today=taipei_today(ctx.app.clock),
                               insights=insights, optional=optional)


def _insights(ctx: Ctx) -> AbstractAsyncContextManager[Insights | None]:
    return ctx.app.insights() if ctx.app.insights is not None else nullcontext(None)


async def _preview(ctx: Ctx, spec: str, text: str, optional: bool) -> HandlerResult:
    """The preview with its buttons: send (a city admin over the quota: send anyway), make optional or not, drop."""
    try:
        plan = await _plan(ctx, spec, text, optional)
    except (AudienceError, ComposeError) as exc:
        return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.bad_text", reason=str(exc)), [back_to_menu(ctx)])],
                             state=STATE_TEXT, data={"spec": spec}, intent=Intent.ANNOUNCE)
    except Refused as exc:
        await audit_refusal(ctx.session, actor=ctx.actor, actor_employee_id=ctx.linked.id,
                            action="broadcasts.preview", spec=spec, reason=str(exc), now=ctx.app.clock.now())
        return _answer(ctx, ctx.t("broadcasts.chat.refused"))
    fingerprint = _fingerprint(spec, text, optional)
    no = ctx.choice("broadcasts.chat.not_now", DropAnnounce())
    toggle = ctx.choice("broadcasts.chat.make_necessary" if optional else "broadcasts.chat.make_optional",
                        MarkOptional(0 if optional else 1))
    body = _preview_text(ctx, plan)
    if not plan.over_quota:
        buttons: tuple[Choice, ...] = (ctx.choice("broadcasts.chat.send", ConfirmAnnounce(fingerprint)), toggle, no)
    elif (await _scope(ctx)).city:  # going over the month's quota costs money: the city's decision
        buttons = (ctx.choice("broadcasts.chat.send_anyway", ForceAnnounce(fingerprint)), toggle, no)
    else:
        body += "\n" + ctx.t("broadcasts.chat.over_quota_agency")
        buttons = (toggle, no)
    return HandlerResult([Reply("confirm", body, buttons)], state=None,
                         data={"spec": spec, "text": text, "optional": optional, "preview": True},
                         intent=Intent.ANNOUNCE)


async def got_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """The announcement's text: check it, count who it reaches and what it costs, ask to confirm."""
    spec = str(ctx.data.get("spec", ""))
    text = (msg.text or "").strip()
    stop = ctx.app.intents.command(text)
    if stop is not None and stop.name == "abort":  # 取消 / cancel: the flow ends, nothing is sent
        return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.dropped"), main_menu(ctx))], state=None, data={},
                             intent=Intent.ANNOUNCE)
    return await _preview(ctx, spec, text, False)


async def mark_optional(ctx: Ctx, msg: IncomingMessage, action: MarkOptional) -> HandlerResult:
    """The preview again, with the announcement optional (people may turn such ones off) or necessary."""
    if not ctx.data.get("preview"):
        return _answer(ctx, ctx.t("error.bad_button"))
    return await _preview(ctx, str(ctx.data.get("spec", "")), str(ctx.data.get("text", "")), bool(action.on))


async def confirm(ctx: Ctx, msg: IncomingMessage, action: ConfirmAnnounce | ForceAnnounce) -> HandlerResult:
    """Send what was previewed (scope and quota checked again); says the announcement's number and its reach."""
    spec, text = str(ctx.data.get("spec", "")), str(ctx.data.get("text", ""))
    optional = bool(ctx.data.get("optional"))
    if not ctx.data.get("preview") or _fingerprint(spec, text, optional) != action.fingerprint:
        return _answer(ctx, ctx.t("error.bad_button"))
    now = ctx.app.clock.now()
    force = isinstance(action, ForceAnnounce) and (await _scope(ctx)).city
    try:
        plan = await _plan(ctx, spec, text, optional)
        if plan.over_quota and not force:  # the month's quota ran out since the preview: show it again
            return await _preview(ctx, spec, text, optional)
        sent = await send(ctx.session, plan, actor=ctx.actor, actor_employee_id=ctx.linked.id, now=now,
                          notifier=ctx.app.deps.notices, quiet=load_quiet_hours(ctx.app.settings.data_dir),
                          force=force)
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


def _counts(ctx: Ctx, totals: Mapping[str, int]) -> str:
    return ctx.t("broadcasts.chat.counts", sent=totals.get("sent", 0), queued=totals.get("queued", 0),
                 failed=totals.get("failed", 0), skipped=totals.get("skipped", 0))


async def history(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """公告紀錄: the officer's latest announcements with their delivery, each with a button to its full report."""
    scope = await _scope(ctx)
    if not scope.is_hr:
        return _answer(ctx, ctx.t("broadcasts.chat.not_hr"))
    rows = await list_broadcasts(ctx.session, scope=scope, rules=ctx.app.rules, limit=5)
    if not rows:
        return _answer(ctx, ctx.t("broadcasts.chat.none"))
    lines, buttons = [], []
    for b in rows:
        t = (await build_report(ctx.session, b)).totals
        lines.append(ctx.t("broadcasts.chat.report_line", id=b.id, audience=b.audience, counts=_counts(ctx, t)))
        buttons.append(Choice(ctx.t("broadcasts.chat.report_button", id=b.id), ShowReport(b.id)))
    return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.history") + "\n" + "\n".join(lines),
                                      [*buttons, *main_menu(ctx)])], state=None, intent=Intent.ANNOUNCE)


async def show_report(ctx: Ctx, msg: IncomingMessage, action: ShowReport) -> HandlerResult:
    """One announcement's report: overall and per agency, the reasons, LINE's opens and clicks where it gives them."""
    scope = await _scope(ctx)
    if not scope.is_hr:
        return _answer(ctx, ctx.t("broadcasts.chat.not_hr"))
    try:
        broadcast = await get_broadcast(ctx.session, action.broadcast_id, scope=scope, rules=ctx.app.rules)
    except Refused:  # not there, or another agency's: said the same way
        return _answer(ctx, ctx.t("error.bad_button"))
    async with _insights(ctx) as insights:
        report = await build_report(ctx.session, broadcast, insights=insights, today=taipei_today(ctx.app.clock))
    lines = [ctx.t("broadcasts.chat.report_head", id=broadcast.id, audience=broadcast.audience,
                   when=format_roc(broadcast.send_at.astimezone(TAIPEI).date()),
                   status=ctx.t(f"broadcasts.chat.status_{broadcast.status}"), counts=_counts(ctx, report.totals))]
    lines += [f"・{agency or '-'}：{_counts(ctx, c)}" for agency, c in sorted(report.by_agency.items())]
    if report.reasons:
        known = ctx.app.texts.keys()  # a failure's own words (LINE's status) are shown as they are
        lines.append(ctx.t("broadcasts.chat.reasons", reasons="、".join(
            f"{ctx.t(key) if (key := f'broadcasts.reason.{r}') in known else r} {n}"
            for r, n in sorted(report.reasons.items()))))
    if report.stats is not None:
        lines.append(ctx.t("broadcasts.chat.stats", opens=report.stats.get("opens", 0),
                           clicks=report.stats.get("clicks", 0)))
    elif not broadcast.personalised or broadcast.counts.get("by_channel", {}).get("line"):
        lines.append(ctx.t("broadcasts.chat.stats_none"))
    history_button = ctx.choice("broadcasts.chat.back_to_history", ShowHistory())
    return HandlerResult([Reply.plain("\n".join(lines), [history_button, *main_menu(ctx)])], state=None,
                         intent=Intent.ANNOUNCE)


@dataclass(frozen=True)
class ShowHistory(Action, kind="ah"):
    """Back to 公告紀錄 from one announcement's report."""


async def show_history(ctx: Ctx, msg: IncomingMessage, action: ShowHistory) -> HandlerResult:
    """公告紀錄 again (the button under a report)."""
    return await history(ctx, msg, "")


FEATURE = Feature(
    name="broadcast",
    actions={PickAudience: Route(Intent.ANNOUNCE, pick_audience, needs_link="announce"),
             PickCityAudience: Route(Intent.ANNOUNCE, pick_audience, needs_link="announce"),
             ConfirmAnnounce: Route(Intent.ANNOUNCE, confirm, needs_link="announce"),
             ForceAnnounce: Route(Intent.ANNOUNCE, confirm, needs_link="announce"),
             MarkOptional: Route(Intent.ANNOUNCE, mark_optional, needs_link="announce"),
             DropAnnounce: Route(Intent.ANNOUNCE, drop, needs_link="announce"),
             ShowReport: Route(Intent.ANNOUNCE, show_report, needs_link="announce"),
             ShowHistory: Route(Intent.ANNOUNCE, show_history, needs_link="announce")},
    intents={"announce": Route(Intent.ANNOUNCE, announce, needs_link="announce"),
             "announce_history": Route(Intent.ANNOUNCE, history, needs_link="announce")},
    states={STATE_TEXT: Route(Intent.ANNOUNCE, got_text, needs_link="announce")},
)
