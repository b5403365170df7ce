"""Search in chat, and the answer to text no rule is sure of: ranked course cards, else the menu.

The fallback (:func:`fallback`) gets what the recognizer made of the text (:class:`bot.intents.Understanding`)
and decides with :func:`resolve`: course results when the words match courses (for a sentence that reads
as a request, only a good match), the personnel-office pointer for a bare noun of a question outside the
bot's job ("颱風假"), "I'm not sure what you mean" with the menu for a request, and "no course matches"
only for words that look like a course search.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from bot.app import App, Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.intents import SEARCH as SEARCH_LABEL
from bot.intents import Decision, Understanding
from bot.routing import Feature, Route, RouteTable
from bot.services.common import holds_national_id
from bot.textfold import compact
from handlers.common import back_to_menu, echo, item_card, main_menu
from handlers.smalltalk import personnel_office


@dataclass(frozen=True)
class MoreResults(Action, kind="mo"):
    """The next page of a search: where it starts, and a fingerprint of the query it pages."""

    offset: int
    query_tag: str


PAGE_SIZE = 5
MAX_RESULTS = 30
SEARCH_STATE = "search.results"
GOOD_MATCH = 85.0
"""A sentence that reads as a request is answered with courses only when the best one scores this well (0–100)."""

FallbackKind = Literal["results", "out_of_scope", "not_understood", "none"]
FALLBACK_INTENT: dict[FallbackKind, Intent] = {"results": Intent.SEARCH, "out_of_scope": Intent.UNKNOWN,
                                               "not_understood": Intent.UNKNOWN, "none": Intent.UNKNOWN}


def resolve(app: App, understood: Understanding) -> FallbackKind:
    """What the fallback answers for text no rule is sure of (see the module docstring)."""
    query = understood.text.strip()
    hits = app.search.search(query, limit=1) if compact(query) else []
    if hits and (not understood.request or hits[0].score >= GOOD_MATCH):
        return "results"
    if understood.searched_first:
        return "out_of_scope"
    return "not_understood" if understood.request else "none"


def query_tag(query: str) -> str:
    """A short fingerprint of a query, carried by its "more" button so an old button cannot page a newer query."""
    return hashlib.blake2s(query.encode(), digest_size=4).hexdigest()


def _page(ctx: Ctx, query: str, offset: int) -> HandlerResult:
    hits = ctx.app.search.search(query, limit=MAX_RESULTS)
    if not hits:
        return HandlerResult([Reply.plain(ctx.t("search.none", query=echo(ctx, query)), main_menu(ctx))],
                             state=None, intent=Intent.UNKNOWN)
    if offset >= len(hits):
        offset = 0
    page = hits[offset: offset + PAGE_SIZE]
    cards = []
    for hit in page:
        note = ctx.t("search.topic_match", topic=hit.matched) if hit.via == "topic" else ""
        cards.append(item_card(ctx, hit.item, note))
    if offset == 0 and len(hits) <= PAGE_SIZE:
        header = ctx.t("search.results", query=echo(ctx, query), count=len(hits))
    else:
        header = ctx.t("search.results_page", query=echo(ctx, query), start=offset + 1, end=offset + len(page),
                       count=len(hits))
    choices: list[Choice] = []
    if offset + PAGE_SIZE < len(hits):
        choices.append(ctx.choice("search.more", MoreResults(offset + PAGE_SIZE, query_tag(query))))
    choices.append(back_to_menu(ctx))
    reply = Reply.card_list(header, cards, choices)
    if offset + PAGE_SIZE < len(hits):
        # Only a query with more pages is worth remembering (and writing to the database).
        return HandlerResult([reply], state=SEARCH_STATE, data={"q": query}, intent=Intent.SEARCH)
    return HandlerResult([reply], state=None, data={}, intent=Intent.SEARCH)


async def search_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """Search for what the user typed (the fallback for text that is not a command).

    Text that folds to nothing (punctuation, emoji) is not searched: the user gets the menu.
    """
    query = arg.strip()
    if not compact(query):
        return HandlerResult([Reply.plain(ctx.t("search.empty"), main_menu(ctx))], intent=Intent.UNKNOWN)
    return _page(ctx, query, 0)


async def more_results(ctx: Ctx, msg: IncomingMessage, action: MoreResults) -> HandlerResult:
    """The "more results" button: the next page of the query kept in the conversation state.

    The button carries the page offset and a fingerprint of its query; when the state no longer holds
    that query (the user searched again, or the state was cleared), the button is stale.
    """
    query = ctx.data.get("q") if ctx.state == SEARCH_STATE else None
    if not isinstance(query, str) or action.query_tag != query_tag(query):
        return HandlerResult([Reply.plain(ctx.t("search.stale"), [back_to_menu(ctx)])], intent=Intent.SEARCH)
    return _page(ctx, query, action.offset)


def how_answered(app: App, routes: RouteTable, understood: Understanding) -> tuple[Intent, str]:
    """How the chat answers text it understood so: the ``chat --json`` intent, and the rule (finer) behind it.

    The rule is a rule name of data/intents.yaml, ``clarify``, ``search`` (course results), ``out_of_scope``
    (the personnel-office answer of a bare noun no course matches) or ``unknown``. What ``abc-bot understand``
    prints and what the quality figures of bench/intents.py count.
    """
    if understood.acts and understood.intent in routes.intents:
        return routes.intents[understood.intent].intent, understood.intent
    if understood.decision == Decision.CLARIFY and all(o in routes.intents for o in understood.options):
        return Intent.CLARIFY, Intent.CLARIFY.value
    if not compact(understood.text):
        return Intent.UNKNOWN, Intent.UNKNOWN.value
    kind = resolve(app, understood)
    rule = {"results": SEARCH_LABEL, "out_of_scope": "out_of_scope"}.get(kind, Intent.UNKNOWN.value)
    return FALLBACK_INTENT[kind], rule


async def fallback(ctx: Ctx, msg: IncomingMessage, understood: Understanding) -> HandlerResult:
    """Text that is no command: course results, or the most helpful "I don't know" (see :func:`resolve`)."""
    query = understood.text.strip()
    if not compact(query):
        return HandlerResult([Reply.plain(ctx.t("search.empty"), main_menu(ctx))], intent=Intent.UNKNOWN,
                             screen=False)
    if holds_national_id(query):  # never searched, kept or shown back
        return HandlerResult([Reply.plain(ctx.t("echo.national_id"), main_menu(ctx))], state=None,
                             intent=Intent.UNKNOWN, screen=False)
    kind = resolve(ctx.app, understood)
    if kind == "results":
        return _page(ctx, query, 0)
    if kind == "out_of_scope":
        text = ctx.t("out_of_scope.search_none", query=echo(ctx, query), office=personnel_office(ctx))
    elif kind == "not_understood":
        text = ctx.t("fallback.not_understood")
    else:
        text = ctx.t("search.none", query=echo(ctx, query))
    return HandlerResult([Reply.plain(text, main_menu(ctx))], state=None, intent=FALLBACK_INTENT[kind],
                         screen=False)


SEARCH = Route(Intent.SEARCH, fallback, screen=True)
"""The fallback: text that is no command is searched (then the menu)."""

FEATURE = Feature(name="search", actions={MoreResults: Route(Intent.SEARCH, more_results, screen=True)})
