"""The dispatcher: one transaction per incoming message, routed through ``handlers/__init__.py``.

A button goes by its payload type (the feature that declared it); free text goes to the active state's
handler, else to the first matching intent, else to search.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.context import Context
from bot.conversation import (
    KEEP_STATE,
    HandlerResult,
    IncomingMessage,
    Intent,
    MessageKind,
    Reply,
    clean_text,
)
from bot.db.channel_accounts import get_or_create_account, lang_of
from bot.db.engine import once_more_if_dropped, transaction
from bot.db.events import DuplicateEvent, record_event
from bot.intents import IntentRecognizer
from bot.routing import Route, RouteTable
from bot.texts import MessageCatalog

log = logging.getLogger(__name__)
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class Outcome:
    """What the channel sends back, and which handler answered (for logs and console --json)."""

    replies: list[Reply]
    intent: Intent
    duplicate: bool = False
    """True when ``event_id`` had been handled before: nothing was done and nothing should be sent."""


class Dispatcher:
    """Routes incoming messages to handlers and saves the conversation state."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], clock: Clock, texts: MessageCatalog,
                 intents: IntentRecognizer, default_lang: str, routes: RouteTable, app: Any) -> None:
        """Wire the dispatcher.

        Args: the session factory, clock, texts and intent rules it routes with, the language of new
        users, the route table, and ``app``, the loaded application handed to handlers as ``ctx.app``.
        """
        self.sessions = sessions
        self.clock = clock
        self.texts = texts
        self.intents = intents
        self.default_lang = default_lang
        self.routes = routes
        self.app = app

    async def handle(self, msg: IncomingMessage, *, event_id: str | None = None) -> Outcome:
        """Handle one message in one transaction; on any error, roll back and apologise.

        With ``event_id`` (a webhook event id), the id is recorded in ``processed_events`` as the first
        statement of that same transaction: an id already there (handled before, or being handled by
        another process right now) gives ``Outcome(duplicate=True)`` and changes nothing, and a handler
        that fails rolls the record back with its work.

        Message text is never logged; the log says which intent answered and how long it took.
        """
        started = time.perf_counter()
        try:
            outcome = await self._handle(msg, event_id)
        except DuplicateEvent:
            log.info("duplicate event channel=%s kind=%s", msg.channel, msg.kind)
            return Outcome([], Intent.UNKNOWN, duplicate=True)
        except Exception:
            log.exception("handler failed channel=%s kind=%s", msg.channel, msg.kind)
            lang = await self._lang_of(msg)
            return Outcome([Reply.plain(self.texts.get("error.internal", lang))], Intent.UNKNOWN)
        log.debug("handled channel=%s kind=%s intent=%s ms=%.1f", msg.channel, msg.kind, outcome.intent,
                 (time.perf_counter() - started) * 1000)
        return outcome

    async def _lang_of(self, msg: IncomingMessage) -> str:
        try:
            async with self.sessions() as session:
                return await lang_of(session, msg.channel, msg.user_id, default=self.default_lang)
        except Exception:
            return self.default_lang

    async def _handle(self, msg: IncomingMessage, event_id: str | None = None) -> Outcome:
        """Run the handler's transaction; once more if the database connection turned out to be dead.

        Connections are not pinged before use (a round trip per message); a connection that died
        meanwhile (a PostgreSQL restart, a dropped idle connection) fails its first statement, the pool
        discards it and every connection as old, and the message runs again on a new one. Nothing of the
        failed attempt was kept: it was one uncommitted transaction, and handlers only return data. A
        connection lost during the commit itself (``CommitOutcomeUnknown``) is not retried: the work may
        have been kept, and the user gets the apology instead of the same work done twice.
        """
        return await once_more_if_dropped(lambda: self._handle_once(msg, event_id))

    async def _handle_once(self, msg: IncomingMessage, event_id: str | None) -> Outcome:
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            if event_id is not None:
                await record_event(session, msg.channel, event_id, now)
            account = await get_or_create_account(session, msg.channel, msg.user_id,
                                                  lang=self.default_lang, now=now)
            if msg.kind == MessageKind.UNFOLLOW:
                account.reachable = False
                return Outcome([], Intent.UNKNOWN)
            if msg.kind == MessageKind.FOLLOW:
                account.reachable = True
            ctx = Context(app=self.app, texts=self.texts, session=session, account=account, state=account.state,
                          data=dict(account.state_data or {}))
            route, argument = self._route(ctx, msg)
            result = await self._run(ctx, msg, route, argument)
            command = self._command(msg) if result.or_command else None
            if command is not None:  # the flow could not use the text, and it is a command: leave the flow
                route, argument = command
                ctx.state, ctx.data = None, {}
                result = await self._run(ctx, msg, route, argument)
                if result.state == KEEP_STATE:
                    result.state, result.data = None, {}
            if result.state != KEEP_STATE and (result.state, result.data) != (account.state, account.state_data):
                account.state = result.state
                account.state_data = result.data
            return Outcome(result.replies, result.intent or route.intent)

    async def _run(self, ctx: Context[Any], msg: IncomingMessage, route: Route, argument: object) -> HandlerResult:
        """Call the route's handler; a ``needs_link`` route of an unlinked user gets the table's bind_first."""
        handler = route.handler
        if route.needs_link and ctx.employee is None:
            handler, argument = self.routes.slots.bind_first.handler, route.needs_link
        result = await handler(ctx, msg, argument)
        result.intent = result.intent or route.intent
        return result

    def _command(self, msg: IncomingMessage) -> tuple[Route, str] | None:
        """The intent route and argument of a text message that is a command, else None."""
        match = self.intents.match(clean_text(msg.text)) if msg.kind == MessageKind.TEXT else None
        if match is None or match.name not in self.routes.intents:
            return None
        return self.routes.intents[match.name], match.argument

    def _route(self, ctx: Context[Any], msg: IncomingMessage) -> tuple[Route, object]:
        routes = self.routes
        if msg.kind == MessageKind.FOLLOW:
            return routes.slots.welcome, ""
        if msg.kind == MessageKind.IMAGE:
            return routes.slots.image, ""
        if msg.kind == MessageKind.ACTION:
            route = routes.actions.get(type(msg.action)) if msg.action is not None else None
            if route is None:
                return routes.slots.bad_button, ""
            return route, msg.action
        if msg.kind != MessageKind.TEXT:
            return routes.slots.unsupported, ""
        text = clean_text(msg.text)
        if not text:
            return routes.intents["help"], ""
        if len(text) > MAX_TEXT_CHARS:
            return routes.slots.too_long, ""
        match = self.intents.match(text)
        if ctx.state and ctx.state in routes.states and (match is None or match.name not in routes.escapes):
            return routes.states[ctx.state], text
        if match is not None and match.name in routes.intents:
            return routes.intents[match.name], match.argument
        return routes.slots.fallback, text
