""""How many hours do I still need": the hours view, and HR looking up a colleague's hours.

The view is three short messages that read well on a phone: progress per bucket with bars and the
deadlines (days left, ROC dates); where the hours came from (including classes whose hours were lost,
and why); and what to take next for the largest gap.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bot.app import Ctx
from bot.clock import taipei_today
from bot.conversation import Card, HandlerResult, IncomingMessage, Intent, Reply
from bot.dates import format_date, gregorian_year
from bot.db.models.core import Employee
from bot.routing import Feature, Route
from bot.services.accounts import authorize, find_employee, scope_of
from bot.services.classes import open_for_registration, personal_states, waitlist_lengths
from bot.services.common import parse_employee_no
from bot.services.hours import (
    BucketStatus,
    HoursStatus,
    forfeit_reason_text,
    format_hours,
    load_status,
    suggested_courses,
)
from handlers.common import ShowHelp, ShowHours, ShowTracks, item_card, main_menu
from handlers.enroll import class_card

BAR_WIDTH = 10
RECORDS_SHOWN = 8
SUGGESTIONS = 3
OPEN_CLASSES_LOOKED_AT = 50


def bar(done: Decimal, required: Decimal, width: int = BAR_WIDTH) -> str:
    """A progress bar of blocks; full only when the bucket is complete."""
    if required <= 0:
        return "▰" * width
    filled = int(min(done, required) * width / required)
    if done < required:
        filled = min(filled, width - 1)
    return "▰" * filled + "▱" * (width - filled)


def _record_title(ctx: Ctx, title: str, course_code: str | None) -> str:
    """A record's title as the portal or HR wrote it; in English, the catalog's title of its course when known."""
    item = ctx.app.catalog.get(course_code) if course_code and ctx.lang != "zh-TW" else None
    return item.title_en if item is not None else title


def _bucket_title(ctx: Ctx, b: BucketStatus) -> str:
    return b.title if ctx.lang == "zh-TW" else b.title_en


def progress_text(ctx: Ctx, employee: Employee, status: HoursStatus, *, own: bool = True) -> str:
    """The first message: header, total, a bar per bucket, the deadlines (``own`` False: HR reading a colleague's)."""
    roc = status.plan_year
    year = str(roc) if ctx.lang == "zh-TW" else f"{gregorian_year(roc)} (ROC {roc})"
    lines = [ctx.t("hours.header", name=employee.name, year=year,
                   today=format_date(status.today, ctx.lang))]
    if not status.applies:
        lines.append(ctx.t("hours.exempt" if own else "hours.exempt_other", rank=employee.rank,
                           done=format_hours(status.done)))
        return "\n".join(lines)
    if status.remaining > 0:
        lines.append(ctx.t("hours.summary", counted=format_hours(status.counted),
                           required=format_hours(status.required), remaining=format_hours(status.remaining)))
    else:
        lines.append(ctx.t("hours.summary_done", counted=format_hours(status.counted),
                           required=format_hours(status.required)))
    surplus = sum((b.surplus for b in status.buckets), Decimal(0))
    for b in status.buckets:
        values = {"title": _bucket_title(ctx, b), "counted": format_hours(b.counted),
                  "required": format_hours(b.required), "remaining": format_hours(b.remaining)}
        line = ctx.t("hours.bucket_line_done" if b.complete else "hours.bucket_line", **values)
        if surplus > 0 and b.received > 0:
            line += ctx.t("hours.surplus_note", hours=format_hours(b.received))
        lines += ["", line, bar(b.counted, b.required)]
    extra = status.done - status.counted
    if extra > 0:
        lines.append(ctx.t("hours.extra_note", hours=format_hours(extra)))
    lines.append("")
    for d in status.deadlines:
        values = {"title": d.title if ctx.lang == "zh-TW" else d.title_en, "date": format_date(d.date, ctx.lang),
                  "remaining": format_hours(d.remaining)}
        if d.remaining == 0:
            lines.append(ctx.t("hours.deadline_met", **values))
        elif d.passed:
            lines.append(ctx.t("hours.deadline_passed", **values))
        elif d.days_left == 0:
            lines.append(ctx.t("hours.deadline_today", **values))
        else:
            lines.append(ctx.t("hours.deadline_left", days=d.days_left, **values))
    if status.hired_this_year and employee.hire_date is not None:
        lines += ["", ctx.t("hours.new_hire" if own else "hours.new_hire_other",
                            date=format_date(employee.hire_date, ctx.lang))]
    return "\n".join(lines)


def records_text(ctx: Ctx, status: HoursStatus) -> str:
    """The second message: hours per source, then the latest records and every forfeited one."""
    if not status.records:
        return ctx.t("hours.no_records")
    totals = [ctx.t("hours.sources_total", source=ctx.t(f"hours.source.{s}"), hours=format_hours(hours))
              for s, hours in status.hours_by_source().items()]
    lines: list[str] = []
    if totals:  # nothing credited yet (every record forfeited): no empty "where your hours come from" line
        lines += [ctx.t("hours.sources_header") + ctx.t("list.separator").join(totals), ""]
    lines.append(ctx.t("hours.records_header"))
    titles = {b.id: _bucket_title(ctx, b) for b in status.buckets}
    shown = [r for r in status.records if not r.credited]
    shown += [r for r in status.records if r.credited][:max(0, RECORDS_SHOWN - len(shown))]
    shown.sort(key=lambda r: (r.occurred_on, r.title), reverse=True)
    any_forfeit = False
    for r in shown:
        values = {"date": format_date(r.occurred_on, ctx.lang), "title": _record_title(ctx, r.title, r.course_code),
                  "hours": format_hours(r.hours),
                  "source": ctx.t(f"hours.source.{r.source}")}
        if r.credited:
            lines.append(ctx.t("hours.record", bucket=titles.get(r.bucket, r.bucket), **values))
        else:
            any_forfeit = True
            reason = forfeit_reason_text(ctx.t, r.forfeit_reason) or (r.forfeit_reason or "")
            lines.append(ctx.t("hours.record_forfeited", reason=reason, **values))
    if len(status.records) > len(shown):
        lines.append(ctx.t("hours.records_more", count=len(status.records) - len(shown)))
    if any_forfeit:
        rule = ctx.app.rules.attendance
        lines.append(ctx.t("hours.forfeit.limit_note", limit=f"{rule.fraction.numerator}/{rule.fraction.denominator}"))
    return "\n".join(lines)


def suggestion(ctx: Ctx, employee: Employee, status: HoursStatus) -> Reply | None:
    """The third message: what to take next for the largest gap (None when the requirement does not apply)."""
    if not status.applies:
        return None
    focus = status.next_focus()
    buttons = [ctx.choice("menu.button.browse", ShowTracks()), ctx.choice("menu.button.menu", ShowHelp())]
    if focus is None:
        return Reply.plain(ctx.t("hours.all_done"), buttons)
    mandatory, missing, gap = focus
    picks = suggested_courses(ctx.app.catalog, gap.id, status, employee.employee_no, limit=SUGGESTIONS)
    cards: list[Card] = [item_card(ctx, i) for i in picks]
    if mandatory:
        pkg = ctx.app.rules.hours.mandatory_package
        sep = "、" if ctx.lang == "zh-TW" else ", "
        detail = sep.join(f"{_bucket_title(ctx, b)} {format_hours(b.remaining)}"
                          for b in status.buckets if b.mandatory and b.remaining > 0)
        text = ctx.t("hours.suggest_package", remaining=format_hours(missing), detail=detail,
                     platform=pkg.platform, package=pkg.name if ctx.lang == "zh-TW" else pkg.name_en,
                     hours=format_hours(Decimal(str(pkg.hours))),
                     when=ctx.t("hours.package_by" if status.today <= pkg.deadline else "hours.package_late",
                                deadline=format_date(pkg.deadline, ctx.lang)))
        if cards:
            text += "\n" + ctx.t("hours.suggest_bucket_courses", bucket=_bucket_title(ctx, gap))
    else:
        text = ctx.t("hours.suggest_other", bucket=_bucket_title(ctx, gap), remaining=format_hours(gap.remaining))
    if cards:
        return Reply.card_list(text, cards, buttons)
    return Reply.plain(text, buttons)


async def open_classes_for_gaps(ctx: Ctx, employee: Employee, status: HoursStatus) -> Reply | None:
    """Classes open for registration now that count toward a bucket still short, which ``employee`` can take.

    Mandatory buckets first; only for the user's own status (a colleague looked up by HR gets none).
    """
    if not status.applies or ctx.employee is None or ctx.employee.id != employee.id:
        return None
    short = [b for b in sorted(status.buckets, key=lambda b: not b.mandatory) if b.remaining > 0]
    if not short:
        return None
    order = {b.id: n for n, b in enumerate(short)}
    classes = [c for c in await open_for_registration(ctx.session, ctx.app.catalog.year, now=ctx.app.clock.now(),
                                                      limit=OPEN_CLASSES_LOOKED_AT) if c.bucket in order]
    mine = await personal_states(ctx.session, classes, employee, now=ctx.app.clock.now(), deps=ctx.app.deps,
                                 lang=ctx.lang)
    fitting = sorted((c for c in classes if mine[c.id].kind in ("open", "full")), key=lambda c: order[c.bucket])
    if not fitting:
        return None
    shown = fitting[:SUGGESTIONS]
    waiting = await waitlist_lengths(ctx.session, [c.id for c in shown])
    sep = "、" if ctx.lang == "zh-TW" else ", "
    buckets = sep.join(_bucket_title(ctx, b) for b in short if any(c.bucket == b.id for c in shown))
    return Reply.card_list(ctx.t("hours.open_classes", buckets=buckets),
                           [class_card(ctx, c, waiting.get(c.id, 0), mine[c.id]) for c in shown], [])


async def status_replies(ctx: Ctx, employee: Employee) -> list[Reply]:
    """The hours view of ``employee`` for the user of ``ctx``.

    Progress, where the hours came from, the open classes that fill a gap, and what else to take.
    """
    status = await load_status(ctx.session, ctx.app.rules, employee, today=taipei_today(ctx.app.clock))
    own = ctx.employee is not None and ctx.employee.id == employee.id
    replies = [Reply.plain(progress_text(ctx, employee, status, own=own)), Reply.plain(records_text(ctx, status))]
    classes = await open_classes_for_gaps(ctx, employee, status)
    if classes is not None:
        replies.append(classes)
    tip = suggestion(ctx, employee, status) if own else None  # what to take next is said to the employee
    if tip is not None:
        replies.append(tip)
    else:
        replies[-1] = Reply.plain(replies[-1].text, main_menu(ctx))
    return replies


async def show_hours(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """"我還差幾小時" / the hours button: the user's own status (unbound users are asked to bind)."""
    employee = ctx.linked
    if not employee.active:
        return HandlerResult([Reply.plain(ctx.t("hours.inactive"), main_menu(ctx))], intent=Intent.HOURS)
    return HandlerResult(await status_replies(ctx, employee), intent=Intent.HOURS)


async def hours_of(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """HR: "查時數 T0002" shows a colleague's status (agency HR: their agency; city admin: anyone).

    Without a number it is the user's own status. The role check is audited; a refusal is polite.
    """
    if not arg.strip():
        return await show_hours(ctx, msg, arg)
    if sum(bool(re.search(r"\d", t)) for t in re.split(r"[\s,，、;；]+", arg.strip())) > 1:  # T0001 T0002
        return HandlerResult([Reply.plain(ctx.t("hours.of_one_at_a_time"), main_menu(ctx))], intent=Intent.HOURS)
    try:
        number = parse_employee_no(arg)
    except ValueError:
        return HandlerResult([Reply.plain(ctx.t("hours.of_usage"), main_menu(ctx))], intent=Intent.HOURS)
    target = await find_employee(ctx.session, number)
    allowed = await authorize(ctx.session, ctx.linked, action="hours.view_other",
                              agency=target.agency if target else None, target=number, actor=ctx.actor,
                              now=ctx.app.clock.now())
    if not allowed:
        # HR of some agency: one answer for "no such number" and "not in your agency", so nothing leaks.
        key = "hours.of_outside" if (await scope_of(ctx.session, ctx.linked)).is_hr else "roles.refused"
        return HandlerResult([Reply.plain(ctx.t(key, employee_no=number), main_menu(ctx))], intent=Intent.HOURS)
    if target is None:
        return HandlerResult([Reply.plain(ctx.t("hours.of_not_found", employee_no=number), main_menu(ctx))],
                             intent=Intent.HOURS)
    return HandlerResult(await status_replies(ctx, target), intent=Intent.HOURS)


HOURS = Route(Intent.HOURS, show_hours, needs_link="hours", screen=True)

FEATURE = Feature(
    name="hours",
    actions={ShowHours: HOURS},
    intents={"hours_of": Route(Intent.HOURS, hours_of, needs_link="hours", screen=True), "hours": HOURS},
)
