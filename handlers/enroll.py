"""Enrolling in chat: a course's classes, the confirmation card, enroll or waitlist, "not now".

Flow (docs/enroll.mmd): course detail "開課班期" (or "報名 python") → class cards → "報名這班" →
confirmation (dates, place, hours, materials, the plan's reminders) → enrolled / waitlisted #n / why not.
Buttons carry ids only (``ey|12``), and every press is checked again against the database, so an old
button for a class that has since filled, closed or been cancelled gets the current answer.
Seeing and cancelling one's enrollments is :mod:`handlers.my_enrollments`; HR's substitutes
:mod:`handlers.substitute`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, Card, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.db.models.classes import TrainingClass
from bot.routing import Feature, Route
from bot.services.catalog import CatalogItem
from bot.services.classes import (
    Deps,
    PersonalState,
    Refusal,
    enroll,
    enroll_refusal,
    get_class,
    open_for_registration,
    personal_states,
    upcoming_classes,
    waitlist_length,
    waitlist_lengths,
    window_state,
)
from bot.services.classes import format as fmt
from bot.services.hours import format_hours
from handlers.common import MyEnrollments, ShowItem, answer, back_to_menu, echo, main_menu

MAX_CARDS = 10
CLOSE_SCORE = 5.0
"""Search hits this close to the best one count as equally good for "報名 <words>"."""


@dataclass(frozen=True)
class CourseClasses(Action, kind="en"):
    """A course's upcoming classes ("開課班期")."""

    item_id: str


@dataclass(frozen=True)
class ShowClass(Action, kind="cl"):
    """"報名這班": the confirmation card of a class."""

    class_id: int


@dataclass(frozen=True)
class ConfirmEnroll(Action, kind="ey"):
    """"確認報名" on the confirmation card."""

    class_id: int


@dataclass(frozen=True)
class Decline(Action, kind="dn"):
    """"先不要" on a confirmation; ``flow`` says which one (enroll, cancel, sub)."""

    flow: str


def deps(ctx: Ctx) -> Deps:
    """What the classes services need besides the session."""
    return ctx.app.deps


def refusal_text(ctx: Ctx, refusal: Refusal) -> str:
    """A refusal's sentence in the user's language."""
    return refusal.text(ctx.t)


def stale(ctx: Ctx, intent: Intent) -> HandlerResult:
    """The answer to a button whose class or enrollment no longer exists."""
    return HandlerResult([Reply.plain(ctx.t("classes.stale"), main_menu(ctx))], intent=intent)


# ---------------------------------------------------------------- class lists


def class_card(ctx: Ctx, cls: TrainingClass, waiting: int, mine: PersonalState | None = None) -> Card:
    """A class as a card: when, where, hours, seats, registration; "報名這班" while registration is open.

    With ``mine`` (a linked user), the card says where that user stands (已報名 / 候補第 n 位 / 不符資格 and why
    / 已額滿，可候補) and offers 報名這班 or 候補這班 only to someone who can take it.
    """
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
        buttons = (ctx.choice("classes.button.choose", ShowClass(cls.id)),)
    if mine is not None and mine.kind != "closed":
        lines.append(_mine_text(ctx, mine))
        if mine.kind == "full" and buttons:
            buttons = (ctx.choice("classes.button.waitlist", ShowClass(cls.id)),)
        elif mine.kind in ("enrolled", "waitlisted", "ineligible"):
            buttons = (ctx.choice("menu.button.enrollments", MyEnrollments()),) if mine.kind != "ineligible" else ()
    subtitle = ctx.t("classes.subtitle", mode=fmt.mode_text(cls, ctx.t), host=cls.host_agency or "—")
    return Card(title=fmt.class_title(ctx.app.catalog, cls, ctx.lang, ctx.t), subtitle=subtitle, body="\n".join(lines),
                buttons=buttons)


def _mine_text(ctx: Ctx, mine: PersonalState) -> str:
    if mine.kind == "waitlisted":
        return ctx.t("classes.mine.waitlisted", position=mine.position or "?")
    if mine.kind == "ineligible" and mine.refusal is not None:
        return ctx.t("classes.mine.ineligible", reason=refusal_text(ctx, mine.refusal))
    return ctx.t(f"classes.mine.{mine.kind}")


async def _class_list(ctx: Ctx, classes: list[TrainingClass], header: str) -> Reply:
    shown = classes[:MAX_CARDS]
    waiting = await waitlist_lengths(ctx.session, [c.id for c in shown])
    mine: dict[int, PersonalState] = {}
    if ctx.employee is not None:
        mine = await personal_states(ctx.session, shown, ctx.employee, now=ctx.app.clock.now(), deps=deps(ctx),
                                     lang=ctx.lang)
    cards = [class_card(ctx, cls, waiting.get(cls.id, 0), mine.get(cls.id)) for cls in shown]
    return Reply.card_list(header, cards, [back_to_menu(ctx)])


async def open_classes(ctx: Ctx, intro: str = "") -> Reply:
    """The classes open for registration now as cards (or "none open"), after ``intro`` when given."""
    classes = await open_for_registration(ctx.session, ctx.app.catalog.year, now=ctx.app.clock.now(),
                                          limit=MAX_CARDS)
    text = ctx.t("classes.open_now", count=len(classes)) if classes else ctx.t("classes.none_open")
    if intro:
        text = f"{intro}\n{text}"
    if not classes:
        return Reply.plain(text, main_menu(ctx))
    return await _class_list(ctx, classes, text)


def best_courses(ctx: Ctx, query: str) -> list[CatalogItem]:
    """The catalog items that match ``query`` about as well as the best one (empty: nothing matches)."""
    hits = ctx.app.search.search(query, limit=5)
    return [h.item for h in hits if h.score >= hits[0].score - CLOSE_SCORE] if hits else []


def course_codes(items: list[CatalogItem]) -> list[str]:
    """The course codes of items, with the courses inside a series."""
    return [code for item in items for code in (item.id, *item.course_ids)]


async def _course_classes(ctx: Ctx, item: CatalogItem) -> HandlerResult:
    classes = await upcoming_classes(ctx.session, ctx.app.catalog.year, course_codes([item]), now=ctx.app.clock.now(),
                                     limit=MAX_CARDS)
    title = item.localized_title(ctx.lang)
    if not classes:
        choices = [ctx.choice("course.detail_button", ShowItem(item.id)), back_to_menu(ctx)]
        return HandlerResult([Reply.plain(ctx.t("classes.none_for_course", title=title), choices)],
                             intent=Intent.ENROLL)
    return HandlerResult([await _class_list(ctx, classes, ctx.t("classes.for_course", title=title,
                                                                  count=len(classes)))], intent=Intent.ENROLL)


async def course_classes(ctx: Ctx, msg: IncomingMessage, action: CourseClasses) -> HandlerResult:
    """The "開課班期" button of a course: its upcoming classes (an unknown course is a stale button)."""
    item = ctx.app.catalog.get(action.item_id)
    if item is None:
        return answer(ctx, "course.not_found", Intent.UNKNOWN)
    return await _course_classes(ctx, item)


async def enroll_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"報名 python": the classes of the best-matching course; "報名" alone: what is open for registration now."""
    query = arg.strip()
    if not query:
        return HandlerResult([await open_classes(ctx)], intent=Intent.ENROLL)
    close = best_courses(ctx, query)
    if not close:  # no such course: say so, and show what can be enrolled in now
        return HandlerResult([await open_classes(ctx, ctx.t("search.none", query=echo(ctx, query)))],
                             intent=Intent.ENROLL)
    if len(close) == 1:
        return await _course_classes(ctx, close[0])
    # Several courses fit about equally well ("公共治理"): the classes of all of them, soonest first.
    classes = await upcoming_classes(ctx.session, ctx.app.catalog.year, course_codes(close), now=ctx.app.clock.now(),
                                     limit=MAX_CARDS)
    if not classes:
        return await _course_classes(ctx, close[0])
    return HandlerResult([await _class_list(ctx, classes, ctx.t("classes.for_query", query=echo(ctx, query),
                                                                  count=len(classes)))], intent=Intent.ENROLL)


# ---------------------------------------------------------------- confirm and enroll


async def show_class(ctx: Ctx, msg: IncomingMessage, action: ShowClass) -> HandlerResult:
    """"報名這班": the confirmation card, or the one-sentence reason this person cannot enroll."""
    employee = ctx.linked
    cls = await get_class(ctx.session, action.class_id)
    if cls is None:
        return stale(ctx, Intent.ENROLL)
    refusal = await enroll_refusal(ctx.session, cls, employee, now=ctx.app.clock.now(), deps=deps(ctx),
                                   lang=ctx.lang)
    if refusal is not None:
        return _refused(ctx, cls, refusal)
    lines = [ctx.t("classes.confirm.header"), *fmt.summary_lines(ctx.app.catalog, cls, ctx.lang, ctx.t),
             ctx.t("classes.field.mode", mode=fmt.mode_text(cls, ctx.t), host=cls.host_agency or "—")]
    if cls.materials_url:
        lines.append(ctx.t("classes.field.materials", url=cls.materials_url))
    lines.append(fmt.reminders_text(ctx.app.rules, ctx.t))
    full = cls.taken >= cls.capacity
    if full:
        waiting = await waitlist_length(ctx.session, cls.id)
        lines.append(ctx.t("classes.confirm.full", position=waiting + 1))
    else:
        lines.append(ctx.t("classes.confirm.seats", left=cls.capacity - cls.taken))
    yes = ctx.choice("classes.button.confirm_waitlist" if full else "classes.button.confirm", ConfirmEnroll(cls.id))
    no = ctx.choice("classes.button.not_now", Decline("enroll"))
    return HandlerResult([Reply.confirm("\n".join(lines), yes, no)], intent=Intent.ENROLL)


def _refused(ctx: Ctx, cls: TrainingClass, refusal: Refusal) -> HandlerResult:
    choices = [ctx.choice("classes.button.other_classes", CourseClasses(cls.course_code)),
               ctx.choice("menu.button.enrollments", MyEnrollments()), back_to_menu(ctx)]
    if ctx.app.catalog.get(cls.course_code) is None:
        choices = choices[1:]
    return HandlerResult([Reply.plain(refusal_text(ctx, refusal), choices)], intent=Intent.ENROLL)


async def confirm_enroll(ctx: Ctx, msg: IncomingMessage, action: ConfirmEnroll) -> HandlerResult:
    """"確認報名": take a seat or a waitlist place (the answer says which), or say why not."""
    employee = ctx.linked
    class_id = action.class_id
    result = await enroll(ctx.session, class_id, employee, now=ctx.app.clock.now(), deps=deps(ctx), lang=ctx.lang)
    cls = await get_class(ctx.session, class_id)
    if cls is None:
        return stale(ctx, Intent.ENROLL)
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
    choices = [ctx.choice("menu.button.enrollments", MyEnrollments()), back_to_menu(ctx)]
    return HandlerResult([Reply.plain("\n".join(lines), choices)], intent=Intent.ENROLL)


async def decline(ctx: Ctx, msg: IncomingMessage, action: Decline) -> HandlerResult:
    """"先不要" / "保留報名" on a confirmation: nothing changes."""
    intent = {"cancel": Intent.CANCEL_ENROLLMENT}.get(action.flow, Intent.ENROLL)
    key = {"cancel": "classes.declined.cancel", "sub": "classes.declined.sub"}.get(action.flow,
                                                                                "classes.declined.enroll")
    return HandlerResult([Reply.plain(ctx.t(key), main_menu(ctx))], intent=intent)




ENROLL = Route(Intent.ENROLL, enroll_text, screen=True)

FEATURE = Feature(
    name="enroll",
    actions={
        CourseClasses: Route(Intent.ENROLL, course_classes, screen=True),
        ShowClass: Route(Intent.ENROLL, show_class, needs_link="enroll"),
        ConfirmEnroll: Route(Intent.ENROLL, confirm_enroll, needs_link="enroll"),
        Decline: Route(Intent.ENROLL, decline),
    },
    intents={"enroll": ENROLL},
)
