"""Enrolling in chat: classes of a course, confirm, enroll or waitlist, my enrollments, cancel, substitutes.

Flow (docs/enroll.mmd): course detail "開課班期" (or "報名 python") → class cards → "報名這班" →
confirmation (dates, place, hours, materials, the plan's reminders) → enrolled / waitlisted #n / why not.
Buttons carry ids only (``ey|12``), and every press is checked again against the database, so an old
button for a class that has since filled, closed or been cancelled gets the current answer.
"""

from __future__ import annotations

import unicodedata

from bot.app import Ctx
from bot.conversation import Action, ActionKind, Card, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.db.models.classes import Enrollment, TrainingClass
from bot.services.accounts import employee_by_id, employees_by_number, roles
from bot.services.catalog import CatalogItem
from bot.services.classes import (
    ACTIVE,
    SUB_ACTION,
    Deps,
    EnrollmentView,
    Refusal,
    cancel,
    cancellable,
    enroll,
    enroll_refusal,
    enrollment_of,
    enrollment_with_person,
    find_class,
    get_class,
    hr_scope,
    my_enrollments,
    open_for_registration,
    own_enrollment,
    substitute_as,
    substitute_refusal,
    upcoming_classes,
    waitlist_length,
    waitlist_lengths,
    window_state,
)
from bot.services.classes import format as fmt
from bot.services.hours import forfeit_reason_text, format_hours
from handlers.common import back_to_menu, main_menu

MAX_CARDS = 10
CLOSE_SCORE = 5.0
"""Search hits this close to the best one count as equally good for "報名 <words>"."""


def _deps(ctx: Ctx) -> Deps:
    return ctx.app.deps


def _refusal_text(ctx: Ctx, refusal: Refusal) -> str:
    return refusal.text(ctx.t)


def _stale(ctx: Ctx, intent: Intent) -> HandlerResult:
    return HandlerResult([Reply.plain(ctx.t("classes.stale"), main_menu(ctx))], intent=intent)


def _row_id(arg: str) -> int | None:
    """A class or enrollment id from a button's argument; None for anything forged or garbled."""
    return int(arg) if arg.isdigit() and len(arg) <= 9 else None


# ---------------------------------------------------------------- class lists


def class_card(ctx: Ctx, cls: TrainingClass, waiting: int) -> Card:
    """A class as a card: when, where, hours, seats, registration; "報名這班" while registration is open."""
    now = ctx.app.clock.now()
    lines = [ctx.t("classes.field.when", when=fmt.meetings_text(cls, ctx.lang, ctx.t))]
    place = fmt.place_text(cls, ctx.t)
    if place:
        lines.append(place)
    lines.append(ctx.t("classes.field.hours", hours=format_hours(cls.hours), bucket=ctx.t(f"bucket.{cls.bucket}")))
    lines.append(ctx.t("classes.field.audience", audience=fmt.audience_text(cls, ctx.t)))
    lines.append(fmt.seats_text(cls, waiting, ctx.t))
    state = window_state(cls.opens_at, cls.closes_at, now)
    buttons: tuple[Choice, ...] = ()
    if cls.status == "closed":
        lines.append(ctx.t("classes.state.closed"))
    elif state == "not_open":
        lines.append(ctx.t("classes.state.not_open", opens=fmt.instant_text(cls.opens_at, ctx.lang)))
    elif state == "closed":
        lines.append(ctx.t("classes.state.window_closed"))
    else:
        lines.append(ctx.t("classes.state.open", closes=fmt.instant_text(cls.closes_at, ctx.lang, is_end=True)))
        buttons = (ctx.choice("classes.button.choose", Action(ActionKind.CLASS, (str(cls.id),))),)
    subtitle = ctx.t("classes.subtitle", mode=fmt.mode_text(cls, ctx.t), host=cls.host_agency or "—")
    return Card(title=fmt.class_title(ctx.app.catalog, cls, ctx.lang), subtitle=subtitle, body="\n".join(lines),
                buttons=buttons)


async def _class_list(ctx: Ctx, classes: list[TrainingClass], header: str) -> Reply:
    waiting = await waitlist_lengths(ctx.session, [c.id for c in classes])
    cards = [class_card(ctx, cls, waiting.get(cls.id, 0)) for cls in classes[:MAX_CARDS]]
    return Reply.card_list(header, cards, [back_to_menu(ctx)])


def _best_courses(ctx: Ctx, query: str) -> list[CatalogItem]:
    """The catalog items that match ``query`` about as well as the best one (empty: nothing matches)."""
    hits = ctx.app.search.search(query, limit=5)
    return [h.item for h in hits if h.score >= hits[0].score - CLOSE_SCORE] if hits else []


def _codes(items: list[CatalogItem]) -> list[str]:
    """The course codes of items, with the courses inside a series."""
    return [code for item in items for code in (item.id, *item.course_ids)]


async def _course_classes(ctx: Ctx, item: CatalogItem) -> HandlerResult:
    classes = await upcoming_classes(ctx.session, ctx.app.catalog.year, _codes([item]), now=ctx.app.clock.now(),
                                     limit=MAX_CARDS)
    title = item.localized_title(ctx.lang)
    if not classes:
        choices = [ctx.choice("course.detail_button", Action(ActionKind.ITEM, (item.id,))), back_to_menu(ctx)]
        return HandlerResult([Reply.plain(ctx.t("classes.none_for_course", title=title), choices)],
                             intent=Intent.ENROLL)
    return HandlerResult([await _class_list(ctx, classes, ctx.t("classes.for_course", title=title,
                                                                  count=len(classes)))], intent=Intent.ENROLL)


async def course_classes(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """The "開課班期" button of a course: its upcoming classes (an unknown course is a stale button)."""
    item = ctx.app.catalog.get(arg)
    if item is None:
        return HandlerResult([Reply.plain(ctx.t("course.not_found"), main_menu(ctx))], intent=Intent.UNKNOWN)
    return await _course_classes(ctx, item)


async def enroll_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"報名 python": the classes of the best-matching course; "報名" alone: what is open for registration now."""
    query = arg.strip()
    if not query:
        classes = await open_for_registration(ctx.session, ctx.app.catalog.year, now=ctx.app.clock.now(),
                                              limit=MAX_CARDS)
        if not classes:
            return HandlerResult([Reply.plain(ctx.t("classes.none_open"), main_menu(ctx))], intent=Intent.ENROLL)
        return HandlerResult([await _class_list(ctx, classes, ctx.t("classes.open_now", count=len(classes)))],
                             intent=Intent.ENROLL)
    close = _best_courses(ctx, query)
    if not close:
        return HandlerResult([Reply.plain(ctx.t("search.none", query=query), main_menu(ctx))], intent=Intent.ENROLL)
    if len(close) == 1:
        return await _course_classes(ctx, close[0])
    # Several courses fit about equally well ("公共治理"): the classes of all of them, soonest first.
    classes = await upcoming_classes(ctx.session, ctx.app.catalog.year, _codes(close), now=ctx.app.clock.now(),
                                     limit=MAX_CARDS)
    if not classes:
        return await _course_classes(ctx, close[0])
    return HandlerResult([await _class_list(ctx, classes, ctx.t("classes.for_query", query=query,
                                                                  count=len(classes)))], intent=Intent.ENROLL)


# ---------------------------------------------------------------- confirm and enroll


async def show_class(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"報名這班": the confirmation card, or the one-sentence reason this person cannot enroll."""
    employee = ctx.linked
    class_id = _row_id(arg)
    cls = await get_class(ctx.session, class_id) if class_id is not None else None
    if cls is None:
        return _stale(ctx, Intent.ENROLL)
    refusal = await enroll_refusal(ctx.session, cls, employee, now=ctx.app.clock.now(), deps=_deps(ctx),
                                   lang=ctx.lang)
    if refusal is not None:
        return _refused(ctx, cls, refusal)
    lines = [ctx.t("classes.confirm.header"), *fmt.summary_lines(ctx.app.catalog, cls, ctx.lang, ctx.t),
             ctx.t("classes.field.mode", mode=fmt.mode_text(cls, ctx.t), host=cls.host_agency or "—")]
    if cls.materials_url:
        lines.append(ctx.t("classes.field.materials", url=cls.materials_url))
    lines.append(fmt.reminders_text(ctx.app.rules, ctx.t))
    if cls.taken >= cls.capacity:
        waiting = await waitlist_length(ctx.session, cls.id)
        lines.append(ctx.t("classes.confirm.full", position=waiting + 1))
    else:
        lines.append(ctx.t("classes.confirm.seats", left=cls.capacity - cls.taken))
    yes = ctx.choice("classes.button.confirm", Action(ActionKind.ENROLL_CONFIRM, (str(cls.id),)))
    no = ctx.choice("classes.button.not_now", Action(ActionKind.DECLINE, ("enroll",)))
    return HandlerResult([Reply.confirm("\n".join(lines), yes, no)], intent=Intent.ENROLL)


def _refused(ctx: Ctx, cls: TrainingClass, refusal: Refusal) -> HandlerResult:
    choices = [ctx.choice("classes.button.other_classes", Action(ActionKind.ENROLL, (cls.course_code,))),
               ctx.choice("menu.button.enrollments", Action(ActionKind.MY_ENROLLMENTS)), back_to_menu(ctx)]
    if ctx.app.catalog.get(cls.course_code) is None:
        choices = choices[1:]
    return HandlerResult([Reply.plain(_refusal_text(ctx, refusal), choices)], intent=Intent.ENROLL)


async def confirm_enroll(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"確認報名": take a seat or a waitlist place (the answer says which), or say why not."""
    employee = ctx.linked
    class_id = _row_id(arg)
    if class_id is None:
        return _stale(ctx, Intent.ENROLL)
    deps = _deps(ctx)
    result = await enroll(ctx.session, class_id, employee, now=ctx.app.clock.now(), deps=deps, lang=ctx.lang)
    cls = await get_class(ctx.session, class_id)
    if cls is None:
        return _stale(ctx, Intent.ENROLL)
    if result.outcome == "refused":
        assert result.refusal is not None
        return _refused(ctx, cls, result.refusal)
    summary = fmt.summary_lines(ctx.app.catalog, cls, ctx.lang, ctx.t)
    if result.outcome == "waitlisted":
        lines = [ctx.t("classes.waitlisted", position=result.position), *summary]
    else:
        lines = [ctx.t("classes.enrolled"), *summary]
        if cls.materials_url:
            lines.append(ctx.t("classes.field.materials", url=cls.materials_url))
        lines.append(fmt.reminders_text(ctx.app.rules, ctx.t))
    lines.append(ctx.t("classes.cancel_until", closes=fmt.instant_text(cls.closes_at, ctx.lang, is_end=True)))
    choices = [ctx.choice("menu.button.enrollments", Action(ActionKind.MY_ENROLLMENTS)), back_to_menu(ctx)]
    return HandlerResult([Reply.plain("\n".join(lines), choices)], intent=Intent.ENROLL)


# ---------------------------------------------------------------- my enrollments and cancel


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
        buttons.append(ctx.choice("classes.button.cancel", Action(ActionKind.CANCEL, (str(view.enrollment.id),))))
    if ctx.app.catalog.get(cls.course_code) is not None:
        buttons.append(ctx.choice("course.detail_button", Action(ActionKind.ITEM, (cls.course_code,))))
    return Card(title=fmt.class_title(ctx.app.catalog, cls, ctx.lang), subtitle=_status_text(ctx, view),
                body="\n".join(lines), buttons=tuple(buttons))


async def show_my_enrollments(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"我的報名": upcoming (enrolled, waitlisted #n) and past (attended, absent, hours credited)."""
    employee = ctx.linked
    now = ctx.app.clock.now()
    views = await my_enrollments(ctx.session, employee.id, now=now, limit=MAX_CARDS)
    if not views:
        return HandlerResult([Reply.plain(ctx.t("classes.mine.none"), main_menu(ctx))], intent=Intent.MY_ENROLLMENTS)
    can_cancel = {v.enrollment.id for v in await cancellable(ctx.session, employee.id, now=now)}
    upcoming = sum(v.upcoming for v in views)
    header = ctx.t("classes.mine.header", upcoming=upcoming, past=len(views) - upcoming)
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
            return HandlerResult([Reply.card_list(ctx.t("classes.cancel.no_match", query=query), cards,
                                                  [back_to_menu(ctx)])], intent=Intent.CANCEL_ENROLLMENT)
        views = matching
    if len(views) == 1:
        return await ask_cancel(ctx, msg, str(views[0].enrollment.id))
    cards = [_enrollment_card(ctx, v, True) for v in views[:MAX_CARDS]]
    return HandlerResult([Reply.card_list(ctx.t("classes.cancel.choose"), cards, [back_to_menu(ctx)])],
                         intent=Intent.CANCEL_ENROLLMENT)


def _matching_views(ctx: Ctx, views: list[EnrollmentView], query: str) -> list[EnrollmentView]:
    """The enrollments whose class code is ``query``, or whose course is among its best search matches."""
    folded = unicodedata.normalize("NFKC", query).casefold()
    by_code = [v for v in views if v.training_class.code.casefold() == folded]
    if by_code:
        return by_code
    codes = set(_codes(_best_courses(ctx, query)))
    return [v for v in views if v.training_class.course_code in codes]


async def _own_enrollment(ctx: Ctx, arg: str) -> Enrollment | None:
    enrollment_id = _row_id(arg)
    if enrollment_id is None:
        return None
    return await own_enrollment(ctx.session, enrollment_id, ctx.linked.id)


async def ask_cancel(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"取消報名" on a card: confirm first (a seat freed goes to the next person waiting)."""
    row = await _own_enrollment(ctx, arg)
    cls = await get_class(ctx.session, row.class_id) if row is not None else None
    if row is None or cls is None:
        return _stale(ctx, Intent.CANCEL_ENROLLMENT)
    if row.status not in ACTIVE:
        return HandlerResult([Reply.plain(ctx.t("classes.refuse.already_cancelled"), main_menu(ctx))],
                             intent=Intent.CANCEL_ENROLLMENT)
    title = fmt.class_title(ctx.app.catalog, cls, ctx.lang)
    when = fmt.meetings_text(cls, ctx.lang, ctx.t)
    key = "classes.cancel.confirm_waitlist" if row.status == "waitlisted" else "classes.cancel.confirm"
    yes = ctx.choice("classes.button.cancel_yes", Action(ActionKind.CANCEL_CONFIRM, (str(row.id),)))
    no = ctx.choice("classes.button.keep", Action(ActionKind.DECLINE, ("cancel",)))
    return HandlerResult([Reply.confirm(ctx.t(key, title=title, when=when), yes, no)],
                         intent=Intent.CANCEL_ENROLLMENT)


async def confirm_cancel(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"確定取消": cancel; a freed seat goes to the first eligible person waiting, who is told by a queued message."""
    employee = ctx.linked
    enrollment_id = _row_id(arg)
    if enrollment_id is None:
        return _stale(ctx, Intent.CANCEL_ENROLLMENT)
    result = await cancel(ctx.session, enrollment_id, employee.id, now=ctx.app.clock.now(), deps=_deps(ctx),
                          lang=ctx.lang)
    choices = [ctx.choice("menu.button.enrollments", Action(ActionKind.MY_ENROLLMENTS)), back_to_menu(ctx)]
    if not result.ok:
        assert result.refusal is not None
        return HandlerResult([Reply.plain(_refusal_text(ctx, result.refusal), choices)],
                             intent=Intent.CANCEL_ENROLLMENT)
    row = await _own_enrollment(ctx, arg)
    cls = await get_class(ctx.session, row.class_id) if row is not None else None
    title = fmt.class_title(ctx.app.catalog, cls, ctx.lang) if cls is not None else ""
    lines = [ctx.t("classes.cancel.done_waitlist" if result.was == "waitlisted" else "classes.cancel.done",
                   title=title)]
    if result.promoted:
        lines.append(ctx.t("classes.cancel.seat_passed_on"))
    return HandlerResult([Reply.plain("\n".join(lines), choices)], intent=Intent.CANCEL_ENROLLMENT)


async def decline(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"先不要" / "保留報名" on a confirmation: nothing changes."""
    intent = {"cancel": Intent.CANCEL_ENROLLMENT}.get(arg, Intent.ENROLL)
    key = {"cancel": "classes.declined.cancel", "sub": "classes.declined.sub"}.get(arg, "classes.declined.enroll")
    return HandlerResult([Reply.plain(ctx.t(key), main_menu(ctx))], intent=intent)


# ---------------------------------------------------------------- substitutes (agency HR)


async def substitute_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"遞補 班期代碼 原報名者員編 遞補者員編" (HR only): check, then ask to confirm."""
    actor = ctx.linked
    scope = await hr_scope(ctx.session, actor)
    if scope is None:
        await roles.record(ctx.session, actor=ctx.actor, actor_employee_id=actor.id, action=SUB_ACTION,
                           target=arg[:200], allowed=False, now=ctx.app.clock.now())
        return HandlerResult([Reply.plain(ctx.t("classes.sub.not_hr"), main_menu(ctx))], intent=Intent.ENROLL)
    parts = unicodedata.normalize("NFKC", arg).split()  # full-width "ＤＥＭＯ－ＴＭ－０１" as typed on a phone
    if len(parts) != 3:
        return HandlerResult([Reply.plain(ctx.t("classes.sub.usage"), [back_to_menu(ctx)])], intent=Intent.ENROLL)
    class_ref, out_no, in_no = parts[0], parts[1].upper(), parts[2].upper()
    cls = await find_class(ctx.session, class_ref)
    people = await employees_by_number(ctx.session, [out_no, in_no])
    if cls is None:
        return HandlerResult([Reply.plain(ctx.t("classes.sub.no_class", ref=class_ref), [back_to_menu(ctx)])],
                             intent=Intent.ENROLL)
    missing = [n for n in (out_no, in_no) if n not in people]
    if missing:
        return HandlerResult([Reply.plain(ctx.t("classes.sub.no_employee", number=missing[0]), [back_to_menu(ctx)])],
                             intent=Intent.ENROLL)
    leaving, replacement = people[out_no], people[in_no]
    row = await enrollment_of(ctx.session, cls.id, leaving.id)
    if row is None:
        return HandlerResult([Reply.plain(ctx.t("classes.refuse.sub_not_enrolled", name=leaving.name),
                                          [back_to_menu(ctx)])], intent=Intent.ENROLL)
    refusal = await substitute_refusal(ctx.session, row, leaving, replacement, cls, scope, ctx.app.clock.now(),
                                       _deps(ctx), ctx.lang)
    if refusal is not None:
        return HandlerResult([Reply.plain(_refusal_text(ctx, refusal), [back_to_menu(ctx)])], intent=Intent.ENROLL)
    text = ctx.t("classes.sub.confirm", title=fmt.class_title(ctx.app.catalog, cls, ctx.lang),
                 when=fmt.meetings_text(cls, ctx.lang, ctx.t),
                 out=ctx.t("classes.sub.person", name=leaving.name, employee_no=leaving.employee_no),
                 replacement=ctx.t("classes.sub.person", name=replacement.name, employee_no=replacement.employee_no))
    yes = ctx.choice("classes.button.sub_yes", Action(ActionKind.SUBSTITUTE, (str(row.id), str(replacement.id))))
    no = ctx.choice("classes.button.not_now", Action(ActionKind.DECLINE, ("sub",)))
    return HandlerResult([Reply.confirm(text, yes, no)], intent=Intent.ENROLL)


async def confirm_substitute(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """HR confirmed: check the role again (audited), then move the seat in one transaction; both are told."""
    actor = ctx.linked
    args = msg.action.args if msg.action is not None else ()
    ids = [_row_id(a) for a in args]
    if len(ids) != 2 or ids[0] is None or ids[1] is None:
        return _stale(ctx, Intent.ENROLL)
    found = await enrollment_with_person(ctx.session, ids[0])
    replacement = await employee_by_id(ctx.session, ids[1])
    cls = await get_class(ctx.session, found[0].class_id) if found is not None else None
    if found is None or replacement is None or cls is None:
        return _stale(ctx, Intent.ENROLL)
    result = await substitute_as(ctx.session, actor, cls, found[1], replacement, actor_label=ctx.actor,
                                 now=ctx.app.clock.now(), deps=_deps(ctx), lang=ctx.lang)
    if not result.ok:
        assert result.refusal is not None
        return HandlerResult([Reply.plain(_refusal_text(ctx, result.refusal), main_menu(ctx))], intent=Intent.ENROLL)
    return HandlerResult([Reply.plain(ctx.t("classes.sub.done", replacement=replacement.name), main_menu(ctx))],
                         intent=Intent.ENROLL)


