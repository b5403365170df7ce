"""HR announcements in chat: 發布公告 / announce → audience buttons → text → preview with the cost → confirm; 公告紀錄.

The same service calls as ``abc-bot broadcast`` (docs/cli.md, "Broadcasts"): the officer's scope is
checked at the preview and again at the confirmation; a city admin also gets "everyone". The audience
and the text wait in the conversation state between the steps; the confirmation button carries a
fingerprint of them, so a button from an older preview is answered as stale.

The preview shows what is left of LINE's monthly quota (``App.insights``, LINE's quota endpoints, as the
CLI reads them). When the announcement costs more than that, it is not sent: a city admin gets 仍要發送
("send anyway", the CLI's ``--force``), an agency officer is told to ask the city's 人事處 or to narrow the
audience. The preview also makes the announcement optional (people may turn such ones off) or necessary.

The preview adds a link button (加入連結: the officer types the https address, optionally followed by the
button's label) and a picture (加入圖片: the next photo the officer sends while the flow waits in
:data:`STATE_IMAGE` is the announcement's, not a certificate claim; so is one sent while the flow asks for the
text), with the same checks as the CLI's
``--link``/``--link-label``/``--image`` (:class:`~bot.services.broadcasts.Content`,
:func:`~bot.services.broadcasts.prepare_image`). The picture is stored under ``MEDIA_DIR`` as soon as it
passes (state data holds only its SHA-256; the file is named by its hash, so an announcement dropped later
leaves one harmless file) and needs ``PUBLIC_BASE_URL`` (https) and ``MEDIA_URL_SECRET``, as on the CLI.
公告紀錄 lists the latest five; each opens its report: per agency, the reasons, LINE's opens and clicks.
"""

from __future__ import annotations

import asyncio
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
    ImageSigner,
    ImageStore,
    Insights,
    Plan,
    Refused,
    audit_refusal,
    build_report,
    get_broadcast,
    list_broadcasts,
    make_plan,
    parse_audience,
    prepare_image,
    send,
)
from bot.services.broadcasts.compose import MAX_LINK_LABEL, MAX_URL
from bot.services.notices.quiet import load_quiet_hours
from handlers.common import back_to_menu, main_menu

STATE_TEXT = "broadcast.text"
STATE_LINK = "broadcast.link"
"""The preview asked for the link button's https address (and, after a space, its label)."""
STATE_IMAGE = "broadcast.image"
"""The preview asked for the picture: the next photo goes to the announcement (see :data:`FEATURE` ``photos``)."""
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


@dataclass(frozen=True)
class AddLink(Action, kind="al"):
    """加入連結 on the preview: ask for the link button's address (and label)."""


@dataclass(frozen=True)
class AddImage(Action, kind="ai"):
    """加入圖片 on the preview: ask for the picture (the next photo the officer sends)."""


@dataclass(frozen=True)
class RemoveExtra(Action, kind="aw"):
    """移除連結 (``what=0``) or 移除圖片 (``what=1``) on the preview."""

    what: int


EXTRAS = ("link", "label", "image")
"""What the preview adds to the text, kept in the conversation state: the link, its label, the picture's SHA-256."""


def _extras(data: Mapping[str, object]) -> dict[str, str]:
    return {k: str(data[k]) for k in EXTRAS if data.get(k)}


def _fingerprint(spec: str, text: str, optional: bool = False, extras: Mapping[str, str] | None = None) -> int:
    tail = "".join(f"\n{k}={v}" for k, v in sorted((extras or {}).items()))
    return zlib.crc32(f"{spec}\n{text}".encode() + (b"\noptional" if optional else b"") + tail.encode())


def _signer(ctx: Ctx) -> ImageSigner | None:
    """The signer of announcement pictures' public links; None when this installation has no public address."""
    settings = ctx.app.settings
    base = settings.public_base_url or ""
    if not settings.media_url_secret or not base.startswith("https://"):
        return None
    return ImageSigner(settings.media_url_secret.encode(), base)


def _content(ctx: Ctx, text: str, extras: Mapping[str, str]) -> Content:
    """The announcement's content: the text and what the preview added (the picture at its signed links)."""
    image, preview = None, None
    signer = _signer(ctx) if extras.get("image") else None
    if signer is not None:
        image, preview = signer.url(extras["image"], "full"), signer.url(extras["image"], "preview")
    return Content(text, link=extras.get("link"), link_label=extras.get("label"), image_url=image,
                   image_preview_url=preview)


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


def _extras_text(ctx: Ctx, plan: Plan) -> str:
    """The preview's lines about the link button and the picture, and the messages each recipient costs."""
    c = plan.content
    lines = []
    if c.link:
        lines.append(ctx.t("broadcasts.chat.preview_link", label=c.link_label or ctx.t("broadcasts.link_label"),
                           url=c.link))
    if c.image_url:
        lines.append(ctx.t("broadcasts.chat.preview_image"))
    lines.append(ctx.t("broadcasts.chat.preview_each", n=c.message_objects))
    return "\n".join(lines)


async def _plan(ctx: Ctx, spec: str, text: str, optional: bool, extras: Mapping[str, str] | None = None) -> Plan:
    """The announcement worked out with LINE's quota (read from LINE where the app has it)."""
    async with _insights(ctx) as insights:
        return await make_plan(ctx.session, parse_audience(spec, ctx.app.rules), _content(ctx, text, extras or {}),
                               scope=await _scope(ctx), rules=ctx.app.rules, today=taipei_today(ctx.app.clock),
                               insights=insights, optional=optional)


def _insights(ctx: Ctx) -> AbstractAsyncContextManager[Insights | None]:
    return ctx.app.insights() if ctx.app.insights is not None else nullcontext(None)


async def _preview(ctx: Ctx, spec: str, text: str, optional: bool,
                   extras: Mapping[str, str] | None = None, *, lead: str | None = None) -> HandlerResult:
    """The preview with its buttons: send (over the quota: a city admin's send anyway), link, picture, kind, drop.

    ``lead``: a sentence said before it (a picture refused, none possible here).
    """
    extras = dict(extras or {})
    try:
        plan = await _plan(ctx, spec, text, optional, extras)
    except (AudienceError, ComposeError) as exc:
        return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.bad_text", reason=str(exc)), [back_to_menu(ctx)])],
                             state=STATE_TEXT, data={"spec": spec, **extras}, intent=Intent.ANNOUNCE)
    except Refused as exc:
        await audit_refusal(ctx.session, actor=ctx.actor, actor_employee_id=ctx.linked.id,
                            action="broadcasts.preview", spec=spec, reason=str(exc), now=ctx.app.clock.now())
        return _answer(ctx, ctx.t("broadcasts.chat.refused"))
    fingerprint = _fingerprint(spec, text, optional, extras)
    no = ctx.choice("broadcasts.chat.not_now", DropAnnounce())
    toggle = ctx.choice("broadcasts.chat.make_necessary" if optional else "broadcasts.chat.make_optional",
                        MarkOptional(0 if optional else 1))
    link = ctx.choice("broadcasts.chat.remove_link", RemoveExtra(0)) if extras.get("link") \
        else ctx.choice("broadcasts.chat.add_link", AddLink())
    image = ctx.choice("broadcasts.chat.remove_image", RemoveExtra(1)) if extras.get("image") \
        else ctx.choice("broadcasts.chat.add_image", AddImage())
    body = _preview_text(ctx, plan) + "\n" + _extras_text(ctx, plan)
    if lead:
        body = lead + "\n" + body
    if not plan.over_quota:
        buttons: tuple[Choice, ...] = (ctx.choice("broadcasts.chat.send", ConfirmAnnounce(fingerprint)), link,
                                       image, toggle, no)
    elif (await _scope(ctx)).city:  # going over the month's quota costs money: the city's decision
        buttons = (ctx.choice("broadcasts.chat.send_anyway", ForceAnnounce(fingerprint)), link, image, toggle, no)
    else:
        body += "\n" + ctx.t("broadcasts.chat.over_quota_agency")
        buttons = (link, image, toggle, no)
    return HandlerResult([Reply("confirm", body, buttons)], state=None,
                         data={"spec": spec, "text": text, "optional": optional, "preview": True, **extras},
                         intent=Intent.ANNOUNCE)


async def got_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """The announcement's text: check it, count who it reaches and what it costs, ask to confirm."""
    spec = str(ctx.data.get("spec", ""))
    text = (msg.text or "").strip()
    stop = ctx.app.intents.command(text)
    if stop is not None and stop.name == "abort":  # 取消 / cancel: the flow ends, nothing is sent
        return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.dropped"), main_menu(ctx))], state=None, data={},
                             intent=Intent.ANNOUNCE)
    return await _preview(ctx, spec, text, False, _extras(ctx.data))  # a picture may have come first


async def mark_optional(ctx: Ctx, msg: IncomingMessage, action: MarkOptional) -> HandlerResult:
    """The preview again, with the announcement optional (people may turn such ones off) or necessary."""
    if not ctx.data.get("preview"):
        return _answer(ctx, ctx.t("error.bad_button"))
    return await _preview(ctx, str(ctx.data.get("spec", "")), str(ctx.data.get("text", "")), bool(action.on),
                          _extras(ctx.data))


async def _back_to_preview(ctx: Ctx, extras: Mapping[str, str], *, lead: str | None = None) -> HandlerResult:
    """The preview of what the conversation state holds, with ``extras`` as its link and picture."""
    return await _preview(ctx, str(ctx.data.get("spec", "")), str(ctx.data.get("text", "")),
                          bool(ctx.data.get("optional")), extras, lead=lead)


def _waiting(ctx: Ctx) -> dict[str, object]:
    """The conversation state kept while the flow waits for a link or a picture: the preview's.

    So the buttons of the preview still work meanwhile (its send button's fingerprint is of what it showed).
    """
    return {k: ctx.data[k] for k in ("spec", "text", "optional", "preview", *EXTRAS) if k in ctx.data}


def _ask_link(ctx: Ctx, lead: str | None = None) -> HandlerResult:
    ask = ctx.t("broadcasts.chat.ask_link", label=ctx.t("broadcasts.link_label"), max_label=MAX_LINK_LABEL)
    return HandlerResult([Reply.plain(f"{lead}\n{ask}" if lead else ask, [back_to_menu(ctx)])], state=STATE_LINK,
                         data=_waiting(ctx), intent=Intent.ANNOUNCE)


async def add_link(ctx: Ctx, msg: IncomingMessage, action: AddLink) -> HandlerResult:
    """加入連結: ask for the https address (optionally followed by the button's label); the flow waits in STATE_LINK."""
    if not ctx.data.get("preview"):
        return _answer(ctx, ctx.t("error.bad_button"))
    return _ask_link(ctx)


async def got_link(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """The link typed: ``https://… 報名去`` (address, then an optional label), checked as the CLI's ``--link``."""
    typed = (msg.text or "").strip()
    stop = ctx.app.intents.command(typed)
    extras = _extras(ctx.data)
    if stop is not None and stop.name == "abort":  # 取消: back to the preview, without a new link
        return await _back_to_preview(ctx, extras)
    url, *rest = typed.split(None, 1) or [""]  # any space (a full-width one too) ends the address
    label = rest[0].strip() if rest else None
    try:
        Content("-", link=url, link_label=label).check()  # the same limits as --link / --link-label
    except ComposeError:
        return _ask_link(ctx, ctx.t("broadcasts.chat.bad_link", max_url=MAX_URL, max_label=MAX_LINK_LABEL))
    extras = {k: v for k, v in extras.items() if k not in ("link", "label")}
    extras["link"] = url
    if label:
        extras["label"] = label
    return await _back_to_preview(ctx, extras)


async def add_image(ctx: Ctx, msg: IncomingMessage, action: AddImage) -> HandlerResult:
    """加入圖片: ask for the photo (the flow waits in STATE_IMAGE), or say this installation cannot send pictures."""
    if not ctx.data.get("preview"):
        return _answer(ctx, ctx.t("error.bad_button"))
    if _signer(ctx) is None:
        return await _back_to_preview(ctx, _extras(ctx.data), lead=ctx.t("broadcasts.chat.image_unavailable"))
    return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.ask_image"), [back_to_menu(ctx)])], state=STATE_IMAGE,
                         data=_waiting(ctx), intent=Intent.ANNOUNCE)


async def _store_photo(ctx: Ctx, msg: IncomingMessage) -> tuple[str | None, str | None]:
    """The photo checked and re-encoded as the CLI's ``--image``, and stored.

    Returns (its SHA-256, None), or (None, the text key of the one sentence that says why not: no public
    address here, or a file LINE would not show).
    """
    if _signer(ctx) is None:
        return None, "broadcasts.chat.image_unavailable"
    if msg.image is None:
        return None, "broadcasts.chat.bad_image"
    try:
        image = await asyncio.to_thread(prepare_image, msg.image)  # CPU: off the loop
    except ComposeError:
        return None, "broadcasts.chat.bad_image"
    await asyncio.to_thread(ImageStore(ctx.app.settings.media_dir).put, image)
    return image.sha256, None


async def got_image(ctx: Ctx, msg: IncomingMessage, arg: object) -> HandlerResult:
    """The photo sent after 加入圖片: the preview with it, or the preview as it was with one sentence why not."""
    extras = _extras(ctx.data)
    sha256, problem = await _store_photo(ctx, msg)
    if sha256 is None:
        return await _back_to_preview(ctx, extras, lead=ctx.t(str(problem)))
    return await _back_to_preview(ctx, {**extras, "image": sha256})


async def image_before_text(ctx: Ctx, msg: IncomingMessage, arg: object) -> HandlerResult:
    """A photo sent while the flow asks for the text: the announcement's picture; the text is asked for still."""
    sha256, problem = await _store_photo(ctx, msg)
    data = dict(ctx.data)
    if sha256 is not None:
        data["image"] = sha256
    lead = ctx.t("broadcasts.chat.image_first") if sha256 is not None else ctx.t(str(problem))
    ask = ctx.t("broadcasts.chat.ask_text", name="{name}")
    return HandlerResult([Reply.plain(f"{lead}\n{ask}", [back_to_menu(ctx)])], state=STATE_TEXT, data=data,
                         intent=Intent.ANNOUNCE)


async def image_typed(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """Text while the flow waits for the picture: 取消 goes back to the preview; anything else asks for the photo."""
    stop = ctx.app.intents.command((msg.text or "").strip())
    if stop is not None and stop.name == "abort":
        return await _back_to_preview(ctx, _extras(ctx.data))
    return HandlerResult([Reply.plain(ctx.t("broadcasts.chat.ask_image"), [back_to_menu(ctx)])], state=STATE_IMAGE,
                         data=_waiting(ctx), intent=Intent.ANNOUNCE)


async def remove_extra(ctx: Ctx, msg: IncomingMessage, action: RemoveExtra) -> HandlerResult:
    """移除連結 / 移除圖片: the preview again without it."""
    if not ctx.data.get("preview"):
        return _answer(ctx, ctx.t("error.bad_button"))
    drop_keys = ("link", "label") if action.what == 0 else ("image",)
    return await _back_to_preview(ctx, {k: v for k, v in _extras(ctx.data).items() if k not in drop_keys})


async def confirm(ctx: Ctx, msg: IncomingMessage, action: ConfirmAnnounce | ForceAnnounce) -> HandlerResult:
    """Send what was previewed (scope and quota checked again); says the announcement's number and its reach."""
    spec, text = str(ctx.data.get("spec", "")), str(ctx.data.get("text", ""))
    optional = bool(ctx.data.get("optional"))
    extras = _extras(ctx.data)
    if not ctx.data.get("preview") or _fingerprint(spec, text, optional, extras) != action.fingerprint:
        return _answer(ctx, ctx.t("error.bad_button"))
    now = ctx.app.clock.now()
    force = isinstance(action, ForceAnnounce) and (await _scope(ctx)).city
    try:
        plan = await _plan(ctx, spec, text, optional, extras)
        if plan.over_quota and not force:  # the month's quota ran out since the preview: show it again
            return await _preview(ctx, spec, text, optional, extras)
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
             AddLink: Route(Intent.ANNOUNCE, add_link, needs_link="announce"),
             AddImage: Route(Intent.ANNOUNCE, add_image, needs_link="announce"),
             RemoveExtra: Route(Intent.ANNOUNCE, remove_extra, needs_link="announce"),
             DropAnnounce: Route(Intent.ANNOUNCE, drop, needs_link="announce"),
             ShowReport: Route(Intent.ANNOUNCE, show_report, needs_link="announce"),
             ShowHistory: Route(Intent.ANNOUNCE, show_history, needs_link="announce")},
    intents={"announce": Route(Intent.ANNOUNCE, announce, needs_link="announce"),
             "announce_history": Route(Intent.ANNOUNCE, history, needs_link="announce")},
    states={STATE_TEXT: Route(Intent.ANNOUNCE, got_text, needs_link="announce"),
            STATE_LINK: Route(Intent.ANNOUNCE, got_link, needs_link="announce"),
            STATE_IMAGE: Route(Intent.ANNOUNCE, image_typed, needs_link="announce")},
    photos={STATE_TEXT: Route(Intent.ANNOUNCE, image_before_text, needs_link="announce"),
            STATE_IMAGE: Route(Intent.ANNOUNCE, got_image, needs_link="announce")},
)
