"""Channel-neutral conversation handlers and the ordered routing table.

The dispatcher routes a button by its action kind (``actions``), free text in an active flow by the
state (``states``) unless the text is an escape command, other text by the first matching intent rule
of ``data/intents.yaml`` (``intents``, keyed by rule name), and anything else to ``fallback`` (search).
"""

from __future__ import annotations

from typing import cast

from bot.conversation import ActionKind, Intent
from bot.routing import Handler, Route, RouteTable
from handlers import account as account_handlers
from handlers import browse, common, course, image, menu, pending, search
from handlers import enroll as enroll_handlers
from handlers import hours as hours_handlers


def build_routes() -> RouteTable:
    """Build the routing table (features register their routes here)."""
    hours = Route(Intent.HOURS, hours_handlers.show_hours, needs_link="hours")
    my_enrollments = Route(Intent.MY_ENROLLMENTS, enroll_handlers.show_my_enrollments, needs_link="my_enrollments")
    enroll = Route(Intent.ENROLL, enroll_handlers.enroll_text)
    cancel = Route(Intent.CANCEL_ENROLLMENT, enroll_handlers.cancel_text, needs_link="cancel_enrollment")
    certificate = Route(Intent.CERTIFICATE, pending.coming_soon("certificate"), needs_link="certificate")
    bind = Route(Intent.BIND, account_handlers.start_bind)
    help_route = Route(Intent.HELP, menu.show_help)
    browse_route = Route(Intent.BROWSE, browse.show_tracks)

    actions: dict[ActionKind, Route] = {
        ActionKind.MENU: browse_route,
        ActionKind.HELP: help_route,
        ActionKind.TRACK: Route(Intent.BROWSE, browse.show_track),
        ActionKind.CATEGORY: Route(Intent.BROWSE, browse.show_category),
        ActionKind.ITEM: Route(Intent.COURSE, course.show_item),
        ActionKind.MORE: Route(Intent.SEARCH, search.more_results),
        ActionKind.LANG: Route(Intent.HELP, menu.lang_button),
        ActionKind.HOURS: hours,
        ActionKind.MY_ENROLLMENTS: my_enrollments,
        ActionKind.ENROLL: Route(Intent.ENROLL, enroll_handlers.course_classes),
        ActionKind.CLASS: Route(Intent.ENROLL, enroll_handlers.show_class, needs_link="enroll"),
        ActionKind.ENROLL_CONFIRM: Route(Intent.ENROLL, enroll_handlers.confirm_enroll, needs_link="enroll"),
        ActionKind.CANCEL: Route(Intent.CANCEL_ENROLLMENT, enroll_handlers.ask_cancel, needs_link="cancel_enrollment"),
        ActionKind.CANCEL_CONFIRM: Route(Intent.CANCEL_ENROLLMENT, enroll_handlers.confirm_cancel,
                                         needs_link="cancel_enrollment"),
        ActionKind.DECLINE: Route(Intent.ENROLL, enroll_handlers.decline),
        ActionKind.SUBSTITUTE: Route(Intent.ENROLL, enroll_handlers.confirm_substitute, needs_link="enroll"),
        ActionKind.CERTIFICATE: certificate,
        ActionKind.BIND: bind,
        ActionKind.UNBIND_CONFIRM: Route(Intent.BIND, account_handlers.confirm_unbind),
    }
    intents: dict[str, Route] = {
        "lang_en": Route(Intent.HELP, menu.lang_en),
        "lang_zh": Route(Intent.HELP, menu.lang_zh),
        "help": help_route,
        "abort": Route(Intent.HELP, menu.nothing_to_cancel),
        "browse": browse_route,
        "track_a": Route(Intent.BROWSE, cast(Handler, browse.track_handler("A"))),
        "track_b": Route(Intent.BROWSE, cast(Handler, browse.track_handler("B"))),
        "track_c": Route(Intent.BROWSE, cast(Handler, browse.track_handler("C"))),
        "unbind": Route(Intent.BIND, account_handlers.ask_unbind),
        "bind": bind,
        "hours_of": Route(Intent.HOURS, hours_handlers.hours_of, needs_link="hours"),
        "hours": hours,
        "my_enrollments": my_enrollments,
        "cancel_enrollment": cancel,
        "enroll": enroll,
        "substitute": Route(Intent.ENROLL, enroll_handlers.substitute_text, needs_link="enroll"),
        "certificate": certificate,
        "course": Route(Intent.COURSE, course.course_by_text),
    }
    return RouteTable(
        actions=actions,
        intents=intents,
        states={
            account_handlers.STATE_EMPLOYEE_NO: Route(Intent.BIND, account_handlers.on_employee_no),
            account_handlers.STATE_CODE: Route(Intent.BIND, account_handlers.on_code),
        },
        # Not "cancel_enrollment": a bare "cancel" inside a flow means "stop this flow" (the flow's own abort
        # words), and the binding flow answers "取消報名" as that command by itself.
        escapes=frozenset({"help", "lang_en", "lang_zh", "browse"}),
        fallback=Route(Intent.SEARCH, search.search_text),
        welcome=Route(Intent.HELP, menu.welcome),
        image=Route(Intent.CERTIFICATE, image.received_image),
        bad_button=Route(Intent.UNKNOWN, menu.bad_button),
        unsupported=Route(Intent.UNKNOWN, menu.unsupported),
        too_long=Route(Intent.UNKNOWN, menu.too_long),
        bind_first=Route(Intent.BIND, common.bind_first),
    )
