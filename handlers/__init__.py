"""Channel-neutral conversation handlers and the ordered routing table.

The dispatcher routes a button by its action kind (``actions``), free text in an active flow by the
state (``states``) unless the text is an escape command, other text by the first matching intent rule
of ``data/intents.yaml`` (``intents``, keyed by rule name), and anything else to ``fallback`` (search).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from bot.context import Handler, Route
from bot.conversation import ActionKind, Intent
from handlers import browse, course, menu, pending, search


@dataclass(frozen=True)
class RouteTable:
    """Every route of the bot, in one place."""

    actions: dict[ActionKind, Route]
    intents: dict[str, Route]
    states: dict[str, Route]
    escapes: frozenset[str]
    fallback: Route
    welcome: Route
    image: Route
    bad_button: Route
    unsupported: Route
    too_long: Route
    extra: dict[str, Route] = field(default_factory=dict)


def build_routes() -> RouteTable:
    """Build the routing table (features register their routes here)."""
    hours = Route(Intent.HOURS, pending.coming_soon("hours"))
    my_enrollments = Route(Intent.MY_ENROLLMENTS, pending.coming_soon("my_enrollments"))
    enroll = Route(Intent.ENROLL, pending.coming_soon("enroll"))
    cancel = Route(Intent.CANCEL_ENROLLMENT, pending.coming_soon("cancel_enrollment"))
    certificate = Route(Intent.CERTIFICATE, pending.coming_soon("certificate"))
    bind = Route(Intent.BIND, pending.coming_soon("bind", needs_binding=False))
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
        ActionKind.ENROLL: enroll,
        ActionKind.CANCEL: cancel,
        ActionKind.CERTIFICATE: certificate,
        ActionKind.BIND: bind,
    }
    intents: dict[str, Route] = {
        "lang_en": Route(Intent.HELP, menu.lang_en),
        "lang_zh": Route(Intent.HELP, menu.lang_zh),
        "help": help_route,
        "browse": browse_route,
        "track_a": Route(Intent.BROWSE, cast(Handler, browse.track_handler("A"))),
        "track_b": Route(Intent.BROWSE, cast(Handler, browse.track_handler("B"))),
        "track_c": Route(Intent.BROWSE, cast(Handler, browse.track_handler("C"))),
        "unbind": bind,
        "bind": bind,
        "hours": hours,
        "my_enrollments": my_enrollments,
        "cancel_enrollment": cancel,
        "enroll": enroll,
        "certificate": certificate,
        "course": Route(Intent.COURSE, course.course_by_text),
    }
    return RouteTable(
        actions=actions,
        intents=intents,
        states={},
        escapes=frozenset({"help", "lang_en", "lang_zh", "browse", "cancel_enrollment"}),
        fallback=Route(Intent.SEARCH, search.search_text),
        welcome=Route(Intent.HELP, menu.welcome),
        image=certificate,
        bad_button=Route(Intent.UNKNOWN, menu.bad_button),
        unsupported=Route(Intent.UNKNOWN, menu.unsupported),
        too_long=Route(Intent.UNKNOWN, menu.too_long),
    )
