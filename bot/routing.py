"""Routes: which handler answers a message, and the table the dispatcher reads.

Feature handler modules declare their own routes (:class:`Feature`); ``handlers/__init__.py`` lists the
features in order and :func:`build_table` joins them into one :class:`RouteTable`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from bot.context import Context
from bot.conversation import Action, HandlerResult, IncomingMessage, Intent

Handler = Callable[[Context[Any], IncomingMessage, Any], Awaitable[HandlerResult]]
"""A handler: (context, message, argument) → result. The argument is the rest of a command's text,
the text typed in a flow, or a button's parsed payload."""


@dataclass(frozen=True)
class Route:
    """A handler and the intent it answers as.

    ``needs_link`` names the feature (text key ``feature.<name>``) of a route only a linked employee may
    use; for anyone else the dispatcher answers with the route table's ``bind_first`` instead.
    """

    intent: Intent
    handler: Handler
    needs_link: str | None = None
    screen: bool = False
    """The answer is a screen (a menu, a list, a course) that "back" (返回 / 上一頁) returns to: its handler
    only shows, so showing it again changes nothing. Confirmations and flows are not screens."""


@dataclass(frozen=True)
class Feature:
    """What one feature module declares: its buttons, the intents it answers, its flow states.

    ``intents`` are keyed by rule name in ``data/intents.yaml``; ``states`` by the named states the
    module owns; ``escapes`` are those of its intents that leave any open flow (help, browse, language).
    """

    name: str
    actions: Mapping[type[Action], Route] = field(default_factory=dict)
    intents: Mapping[str, Route] = field(default_factory=dict)
    states: Mapping[str, Route] = field(default_factory=dict)
    escapes: frozenset[str] = frozenset()
    photos: Mapping[str, Route] = field(default_factory=dict)
    """Flow states of the module that take a photo: a photo sent while the user is in one goes to its route
    instead of the table's ``image`` slot (the certificate claim)."""


@dataclass(frozen=True)
class Slots:
    """The answers that belong to no button or intent."""

    fallback: Route
    """Text that is no command and no flow's answer: search, then the menu (argument: the
    :class:`bot.intents.Understanding` of the text)."""
    clarify: Route
    """Text that could be either of two commands: ask which (argument: its :class:`bot.intents.Understanding`)."""
    welcome: Route
    """A new or returning follower."""
    image: Route
    bad_button: Route
    """A forged or garbled payload, or a payload kind no feature routes."""
    unsupported: Route
    too_long: Route
    bind_first: Route
    """Answers a ``needs_link`` route for an unlinked user (its argument is the route's feature name)."""


@dataclass(frozen=True)
class RouteTable(Slots):
    """Every route of the bot, in one place (built by :func:`build_table`): the features' and the slots."""

    actions: dict[type[Action], Route] = field(default_factory=dict)
    intents: dict[str, Route] = field(default_factory=dict)
    states: dict[str, Route] = field(default_factory=dict)
    escapes: frozenset[str] = frozenset()
    photos: dict[str, Route] = field(default_factory=dict)


def build_table(features: Sequence[Feature], slots: Slots) -> RouteTable:
    """Join the features' declarations, in order, into the dispatcher's table.

    Raises:
        ValueError: two features route the same payload type, intent or state.
    """
    actions: dict[type[Action], Route] = {}
    intents: dict[str, Route] = {}
    states: dict[str, Route] = {}
    photos: dict[str, Route] = {}
    escapes: set[str] = set()
    for feature in features:
        for table, part, what in ((actions, feature.actions, "button"), (intents, feature.intents, "intent"),
                                  (states, feature.states, "state"), (photos, feature.photos, "photo state")):
            for key, route in part.items():
                if key in table:
                    raise ValueError(f"feature {feature.name}: {what} {key!r} is routed twice")
                table[key] = route  # type: ignore[index]
        unknown = feature.escapes - set(feature.intents)
        if unknown:
            raise ValueError(f"feature {feature.name}: escapes {sorted(unknown)} are not its intents")
        escapes |= feature.escapes
    return RouteTable(**{f.name: getattr(slots, f.name) for f in fields(slots)}, actions=actions, intents=intents,
                      states=states, escapes=frozenset(escapes), photos=photos)
