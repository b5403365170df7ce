"""Routes: which handler answers a message, and the table the dispatcher reads.

Feature handler modules declare their own routes (:class:`Feature`); ``handlers/__init__.py`` lists the
features in order and :func:`build_table` joins them into one :class:`RouteTable`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.context import Context
from bot.conversation import ActionKind, HandlerResult, IncomingMessage, Intent

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
    bind_first: Route
    """Answers a ``needs_link`` route for an unlinked user (its argument is the route's feature name)."""
    extra: dict[str, Route] = field(default_factory=dict)
