"""Channel-neutral conversation handlers, one module per feature, and the ordered list of features.

Each feature module declares its buttons (typed payloads), the intents it answers (rule names of
``data/intents.yaml``) and its flow states in a ``FEATURE``; :func:`build_routes` joins them in the
order below (a payload, intent or state routed twice is refused at start-up). The dispatcher routes a
button by its payload type, free text in an open flow by the state unless the text is an escape
command, other text by what ``IntentRecognizer.understand`` decides (a rule, a clarifying question, or the
fallback: search, then the menu).
Adding a feature: its module, its texts file, and one line in ``FEATURES``.
"""

from __future__ import annotations

from bot.conversation import Intent
from bot.routing import Feature, Route, RouteTable, Slots, build_table
from handlers import (
    account,
    broadcast,
    browse,
    certificate,
    certificate_claims,
    certificate_review,
    clarify,
    common,
    course,
    enroll,
    hours,
    menu,
    my_enrollments,
    optout,
    reminders,
    schedule,
    search,
    smalltalk,
    substitute,
    survey,
)

FEATURES: tuple[Feature, ...] = (
    menu.FEATURE,
    browse.FEATURE,
    course.FEATURE,
    search.FEATURE,
    account.FEATURE,
    hours.FEATURE,
    enroll.FEATURE,
    my_enrollments.FEATURE,
    reminders.FEATURE,
    survey.FEATURE,
    schedule.FEATURE,
    substitute.FEATURE,
    certificate.FEATURE,
    certificate_claims.FEATURE,
    certificate_review.FEATURE,
    broadcast.FEATURE,
    optout.FEATURE,
    smalltalk.FEATURE,
    clarify.FEATURE,
)


def build_routes() -> RouteTable:
    """Build the routing table from the features and the answers that belong to no feature."""
    return build_table(FEATURES, Slots(
        fallback=search.SEARCH,
        clarify=clarify.CLARIFY,
        welcome=Route(Intent.HELP, menu.welcome),
        image=Route(Intent.CERTIFICATE, certificate.received_image),
        bad_button=Route(Intent.UNKNOWN, menu.bad_button),
        unsupported=Route(Intent.UNKNOWN, menu.unsupported),
        too_long=Route(Intent.UNKNOWN, menu.too_long),
        bind_first=Route(Intent.BIND, common.bind_first),
    ))
