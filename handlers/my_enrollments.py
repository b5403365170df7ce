"""My enrollments (我的報名) and cancelling one (取消報名): confirm first; a freed seat goes to the waitlist."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, Card, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.classes import (
    ACTIVE,
    EnrollmentView,
    cancel,
    cancellable,
    get_class,
    my_enrollments,
    own_enrollment,
    waitlist_length,
)
from bot.services.classes import format as fmt
from bot.services.hours import forfeit_reason_text
from handlers.common import MyEnrollments, ShowItem, back_to_menu, echo, main_menu
from handlers.enroll import MAX_CARDS, Decline, best_courses, course_codes, deps, refusal_text, stale
from handlers.smalltalk import personnel_office


@dataclass(frozen=True)
class AskCancel(Action, kind="cx"):
    """"取消報名" on an enrollment's card: ask to confirm."""

    enrollment_id: int


@dataclass(frozen=True)
class ConfirmCancel(Action, kind="cy"):
    """"確定取消" on the confirmation."""

    enrollment_id: int


def _status_text(ctx: Ctx, view: EnrollmentView) -> str:
    e = view.enrollment
    if e.status == "cancelled":
        return ctx.t(f"classes.status.cancelled_{e.cancel_reason or 'self'}")
    if e.status == "waitlisted":
        return ctx.t("classes.status.waitlisted", position=view.position)
    if e.attendance == "absent":
        return ctx.t("classes.status.absent")
    if e.attendance == "attended":
        if view.credited_hours is not None:
            return ctx.t("classes.status.credited", hours=view.credited_hours)
        why = forfeit_reason_text(ctx.t, view.forfeit_reason) or ctx.t("classes.status.no_reason")
        return ctx.t("classes.status.forfeited", reason=why)
    if not view.upcoming:
        return ctx.t("classes.status.awaiting_attendance")
    return ctx.t("classes.status.enrolled")


def _enrollment_card(ctx: Ctx, view: EnrollmentView, can_cancel: bool) -> Card:
    cls = view.training_class
    lines = [ctx.t("classes.field.when", when=fmt.meetings_text(cls, ctx.lang, ctx.t))]
    place = fmt.place_text(cls, ctx.t)
    if place and view.upcoming:
        lines.append(place)
    if view.upcoming and view.enrollment.status == "enrolled" and cls.materials_url:
        lines.append(ctx.t("classes.field.materials", url=cls.materials_url))
    buttons: list[Choice] = []
    if can_cancel:
        buttons.append(ctx.choice("classes.button.cancel", AskCancel(view.enrollment.id)))
    elif view.upcoming and view.enrollment.status == "enrolled" and ctx.app.clock.now() >= cls.closes_at:
        lines.append(ctx.t("classes.mine.ask_office", closes=fmt.instant_text(cls.closes_at, ctx.lang, is_end=True),
                           office=personnel_office(ctx)))
    if ctx.app.catalog.get(cls.course_code) is not None:
        buttons.append(ctx.choice("course.detail_button", ShowItem(cls.course_code)))
    return Card(title=fmt.class_title(ctx.app.catalog, cls, ctx.lang, ctx.t), subtitle=_status_text(ctx, view),
                body="\n".join(lines), buttons=tuple(buttons))


def _header(ctx: Ctx, views: list[EnrollmentView]) -> str:
    """"您的報名：即將上課 2 班、候補 1 班、已取消 1 班、已結束 3 筆" (parts that are 0 left out, seats always)."""
    seats = sum(v.upcoming and v.enrollment.status == "enrolled" for v in views)
    counts = {"waitlisted": sum(v.upcoming and v.enrollment.status == "waitlisted" for v in views),
              "cancelled": sum(v.upcoming and v.enrollment.status == "cancelled" for v in views),
              "past": sum(not v.upcoming for v in views)}
    parts = [ctx.t("classes.mine.count.upcoming", count=seats)]
    parts += [ctx.t(f"classes.mine.count.{kind}", count=n) for kind, n in counts.items() if n]
    return ctx.t("classes.mine.header_parts", parts=ctx.t("list.separator").join(parts))


async def show_my_enrollments(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """"我的報名": upcoming (enrolled, waitlisted #n) and past (attended, absent, hours credited)."""
    employee = ctx.linked
    now = ctx.app.clock.now()
    views = await my_enrollments(ctx.session, employee.id, now=now, limit=MAX_CARDS)
    if not views:
        return HandlerResult([Reply.plain(ctx.t("classes.mine.none"), main_menu(ctx))], intent=Intent.MY_ENROLLMENTS)
    can_cancel = {v.enrollment.id for v in await cancellable(ctx.session, employee.id, now=now)}
    header = _header(ctx, views)
    cards = [_enrollment_card(ctx, v, v.enrollment.id in can_cancel) for v in views]
    return HandlerResult([Reply.card_list(header, cards, [back_to_menu(ctx)])], intent=Intent.MY_ENROLLMENTS)


async def cancel_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"取消報名": what the person may still cancel (straight to the confirmation when there is one)."""
    employee = ctx.linked
    views = await cancellable(ctx.session, employee.id, now=ctx.app.clock.now())
    if not views:
        return HandlerResult([Reply.plain(ctx.t("classes.cancel.none"), main_menu(ctx))],
                             intent=Intent.CANCEL_ENROLLMENT)
    query = arg.strip()
    if query:
        # "取消報名 python": only the enrollments of that course (or class code), never another one.
        matching = _matching_views(ctx, views, query)
        if not matching:
            cards = [_enrollment_card(ctx, v, True) for v in views[:MAX_CARDS]]
            return HandlerResult([Reply.card_list(ctx.t("classes.cancel.no_match", query=echo(ctx, query)), cards,
                                                  [back_to_menu(ctx)])], intent=Intent.CANCEL_ENROLLMENT)
        views = matching
    if len(views) == 1:
        return await ask_cancel(ctx, msg, AskCancel(views[0].enrollment.id))
    cards = [_enrollment_card(ctx, v, True) for v in views[:MAX_CARDS]]
    return HandlerResult([Reply.card_list(ctx.t("classes.cancel.choose"), cards, [back_to_menu(ctx)])],
                         intent=Intent.CANCEL_ENROLLMENT)


def _matching_views(ctx: Ctx, views: list[EnrollmentView], query: str) -> list[EnrollmentView]:
    """The enrollments whose class code is ``query``, or whose course is among its best search matches."""
    folded = unicodedata.normalize("NFKC", query).casefold()
    by_code = [v for v in views if v.training_class.code.casefold() == folded]
    if by_code:
        return by_code
    codes = set(course_codes(best_courses(ctx, query)))
    return [v for v in views if v.training_class.course_code in codes]


async def ask_cancel(ctx: Ctx, msg: IncomingMessage, action: AskCancel) -> HandlerResult:
    """"取消報名" on a card: confirm first (a seat freed goes to the next person waiting)."""
    row = await own_enrollment(ctx.session, action.enrollment_id, ctx.linked.id)
    cls = await get_class(ctx.session, row.class_id) if row is not None else None
    if row is None or cls is None:
        return stale(ctx, Intent.CANCEL_ENROLLMENT)
    if row.status not in ACTIVE:
        return HandlerResult([Reply.plain(ctx.t("classes.refuse.already_cancelled"), main_menu(ctx))],
                             intent=Intent.CANCEL_ENROLLMENT)
    title = fmt.class_title(ctx.app.catalog, cls, ctx.lang, ctx.t)
    when = fmt.meetings_text(cls, ctx.lang, ctx.t)
    if row.status == "waitlisted":
        key = "classes.cancel.confirm_waitlist"
    else:  # the seat goes to someone only when someone waits
        key = "classes.cancel.confirm" if await waitlist_length(ctx.session, cls.id) else "classes.cancel.confirm_open"
    yes = ctx.choice("classes.button.cancel_yes", ConfirmCancel(row.id))
    no = ctx.choice("classes.button.keep", Decline("cancel"))
    return HandlerResult([Reply.confirm(ctx.t(key, title=title, when=when), yes, no)],
                         intent=Intent.CANCEL_ENROLLMENT)


async def confirm_cancel(ctx: Ctx, msg: IncomingMessage, action: ConfirmCancel) -> HandlerResult:
    """"確定取消": cancel; a freed seat goes to the first eligible person waiting, who is told by a queued message."""
    employee = ctx.linked
    enrollment_id = action.enrollment_id
    result = await cancel(ctx.session, enrollment_id, employee.id, now=ctx.app.clock.now(), deps=deps(ctx),
                          lang=ctx.lang)
    choices = [ctx.choice("menu.button.enrollments", MyEnrollments()), back_to_menu(ctx)]
    if not result.ok:
        assert result.refusal is not None
        return HandlerResult([Reply.plain(refusal_text(ctx, result.refusal), choices)],
                             intent=Intent.CANCEL_ENROLLMENT)
    row = await own_enrollment(ctx.session, enrollment_id, employee.id)
    cls = await get_class(ctx.session, row.class_id) if row is not None else None
    title = fmt.class_title(ctx.app.catalog, cls, ctx.lang, ctx.t) if cls is not None else ""
    lines = [ctx.t("classes.cancel.done_waitlist" if result.was == "waitlisted" else "classes.cancel.done",
                   title=title)]
    if result.promoted:
        lines.append(ctx.t("classes.cancel.seat_passed_on"))
    return HandlerResult([Reply.plain("\n".join(lines), choices)], intent=Intent.CANCEL_ENROLLMENT)


CANCEL = Route(Intent.CANCEL_ENROLLMENT, cancel_text, needs_link="cancel_enrollment")
MINE = Route(Intent.MY_ENROLLMENTS, show_my_enrollments, needs_link="my_enrollments", screen=True)

FEATURE = Feature(
    name="my_enrollments",
    actions={
        MyEnrollments: MINE,
        AskCancel: Route(Intent.CANCEL_ENROLLMENT, ask_cancel, needs_link="cancel_enrollment"),
        ConfirmCancel: Route(Intent.CANCEL_ENROLLMENT, confirm_cancel, needs_link="cancel_enrollment"),
    },
    intents={"my_enrollments": MINE, "cancel_enrollment": CANCEL},
)
