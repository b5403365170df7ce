""""我這週有什麼課" / "my schedule": the user's coming class meetings in date order, or the classes open now.

Each meeting is one line (day, time, class), followed by where (place or link) and the materials link of its
class; a waitlisted place is said so. Nothing scheduled: a clear "nothing yet" with the classes open for
registration (as "報名" shows them).
"""

from __future__ import annotations

from bot.app import Ctx
from bot.clock import TAIPEI
from bot.conversation import HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.classes import ACTIVE, my_enrollments
from bot.services.classes import format as fmt
from handlers.common import MyEnrollments, back_to_menu
from handlers.enroll import open_classes

MAX_MEETINGS = 10


async def show_schedule(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """The coming meetings of the classes the user holds a seat or a waitlist place in, soonest first."""
    now = ctx.app.clock.now()
    views = await my_enrollments(ctx.session, ctx.linked.id, now=now, limit=50)
    held = [v for v in views if v.upcoming and v.enrollment.status in ACTIVE and v.training_class.status != "cancelled"]
    meetings = sorted(((m, v) for v in held for m in v.training_class.meetings if m.ends_at > now),
                      key=lambda mv: mv[0].starts_at)
    if not meetings:
        reply = await open_classes(ctx, ctx.t("schedule.none"))
        return HandlerResult([reply], intent=Intent.SCHEDULE)
    lines = [ctx.t("schedule.header", count=len(meetings))]
    for meeting, view in meetings[:MAX_MEETINGS]:
        cls = view.training_class
        start, end = meeting.starts_at.astimezone(TAIPEI), meeting.ends_at.astimezone(TAIPEI)
        lines += ["", ctx.t("schedule.meeting", day=fmt.local_day_text(meeting.starts_at, ctx.lang, ctx.t),
                            start=f"{start:%H:%M}", end=f"{end:%H:%M}",
                            title=fmt.class_title(ctx.app.catalog, cls, ctx.lang, ctx.t))]
        if view.enrollment.status == "waitlisted":
            lines.append(ctx.t("classes.status.waitlisted", position=view.position))
        place = fmt.place_text(cls, ctx.t)
        if place:
            lines.append(place)
        if cls.materials_url:
            lines.append(ctx.t("classes.field.materials", url=cls.materials_url))
    if len(meetings) > MAX_MEETINGS:
        lines += ["", ctx.t("schedule.more", count=len(meetings) - MAX_MEETINGS)]
    choices = [ctx.choice("menu.button.enrollments", MyEnrollments()), back_to_menu(ctx)]
    return HandlerResult([Reply.plain("\n".join(lines), choices)], intent=Intent.SCHEDULE)


SCHEDULE = Route(Intent.SCHEDULE, show_schedule, needs_link="schedule", screen=True)

FEATURE = Feature(name="schedule", intents={"schedule": SCHEDULE})
