"""The dispatcher: one transaction per incoming message, routed through ``handlers/__init__.py``.

A button goes by its payload type (the feature that declared it). Text typed at a confirmation card that
is one of its answers (好 / 確認 / no, or a button's label) presses that button. Other free text in an open
flow goes to the flow's state handler unless it is an escape command; else :meth:`IntentRecognizer.understand`
decides: a command or a sure rule is answered by its route, two close rules get the clarifying question,
anything else goes to the fallback (search, then the menu). A handler may hand back a :class:`Redirect`
(the rule picked in a clarifying question, "back"), which is answered instead. Screens shown and the open
confirmation card are remembered per user (:mod:`bot.navigation`).
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
    Redirect,
    Reply,
    clean_text,
)
from bot.db.channel_accounts import get_or_create_account, lang_of
from bot.db.engine import once_more_if_dropped, transaction
from bot.db.events import DuplicateEvent, record_event
from bot.intents import IntentRecognizer
from bot.intents_file import phrase_key
from bot.logsafe import log_failure
from bot.navigation import Navigation, may_keep
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
        except Exception as exc:  # the error's text may quote personal data (a database error quotes values)
            log_failure(log, "handler failed channel=%s kind=%s", exc, msg.channel, msg.kind)
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
                                                  lang=msg.lang or self.default_lang, now=now)
            if msg.kind == MessageKind.UNFOLLOW:
                account.reachable = False
                return Outcome([], Intent.UNKNOWN)
            if msg.kind == MessageKind.FOLLOW:
                account.reachable = True
            nav, data = Navigation.split(account.state_data)
            msg = self._typed_answer(msg, nav, in_flow=account.state is not None)
            ctx = Context(app=self.app, texts=self.texts, session=session, account=account, state=account.state,
                          data=data, can_go_back=nav.can_go_back)
            route, argument, screen = self._route(ctx, msg)
            result = await self._run(ctx, msg, route, argument)
            command = self._command(msg) if result.or_command else None
            if command is not None:  # the flow could not use the text, and it is a command: leave the flow
                rule, argument = command
                route, screen = self.routes.intents[rule], Redirect(rule=rule, text=argument)
                ctx.state, ctx.data = None, {}
                result = await self._run(ctx, msg, route, argument)
                if result.state == KEEP_STATE:
                    result.state, result.data = None, {}
            if result.redirect is not None:
                route, screen, result = await self._redirected(ctx, msg, nav, result)
            shows_screen = result.screen if result.screen is not None else route.screen
            nav.shown(screen if shows_screen else None)
            nav.showed_replies(result.replies)
            if result.state == KEEP_STATE:
                state, kept = account.state, data
            else:
                state, kept = result.state, result.data
            new_data = nav.merged(kept)
            if (state, new_data) != (account.state, account.state_data or {}):
                account.state = state
                account.state_data = new_data
            return Outcome(result.replies, result.intent or route.intent)

    async def _redirected(self, ctx: Context[Any], msg: IncomingMessage, nav: Navigation,
                          first: HandlerResult) -> tuple[Route, Redirect | None, HandlerResult]:
        """Answer a handler's :class:`Redirect` (once: a redirect to a redirect is not followed)."""
        assert first.redirect is not None
        target: Redirect | None = first.redirect
        if target is not None and target.back:
            target = nav.back()
        route, argument = self._target(target)
        if ctx.state in self.routes.states:  # leaving an open flow, as an escape command does
            ctx.state, ctx.data = None, {}
            first.state, first.data = None, {}
        result = await self._run(ctx, msg, route, argument)
        result.redirect = None
        result.replies = [*first.replies, *result.replies]  # what the first handler said leads ("linked! …")
        if result.state == KEEP_STATE and first.state != KEEP_STATE:
            result.state, result.data = first.state, first.data
        return route, target, result

    def _target(self, target: Redirect | None) -> tuple[Route, object]:
        """The route and argument that answer a redirect (nothing to go back to: the help menu)."""
        routes = self.routes
        if target is None:
            return routes.intents["help"], ""
        if target.action is not None:
            return routes.actions.get(type(target.action), routes.bad_button), target.action
        if target.rule is not None:
            route = routes.intents.get(target.rule)
            return (route, target.text) if route is not None else (routes.bad_button, "")
        return routes.fallback, self.intents.understand(target.text)

    def _typed_answer(self, msg: IncomingMessage, nav: Navigation, *, in_flow: bool) -> IncomingMessage:
        """Text typed at a confirmation card that answers it (好 / no / a button's label) becomes that button press."""
        if msg.kind != MessageKind.TEXT:
            return msg
        card = nav.confirm
        if card is not None:
            answer = self.intents.confirm_answer(clean_text(msg.text), card.yes_label, card.no_label)
            if answer is not None:
                return IncomingMessage.from_payload(msg.channel, msg.user_id, card.yes if answer == "yes" else card.no,
                                                    display_text=msg.text)
        if in_flow:  # a flow step reads its own typed answers (取消 leaves the linking flow with its own words)
            return msg
        typed = phrase_key(clean_text(msg.text))
        pressed = [payload for label, payload in nav.labels if typed and phrase_key(label) == typed]
        if len(pressed) == 1:  # a button's own label typed (本機關全體): that button, not a search for the words
            return IncomingMessage.from_payload(msg.channel, msg.user_id, pressed[0], display_text=msg.text)
        return msg

    async def _run(self, ctx: Context[Any], msg: IncomingMessage, route: Route, argument: object) -> HandlerResult:
        """Call the route's handler; a ``needs_link`` route of an unlinked user gets the table's bind_first."""
        handler = route.handler
        if route.needs_link and ctx.employee is None:
            handler, argument = self.routes.bind_first.handler, route.needs_link
        result = await handler(ctx, msg, argument)
        result.intent = result.intent or route.intent
        return result

    def _command(self, msg: IncomingMessage) -> tuple[str, str] | None:
        """The rule and argument of a text message that is plainly a command (with a route), else None."""
        match = self.intents.plain_command(clean_text(msg.text)) if msg.kind == MessageKind.TEXT else None
        if match is None or match.name not in self.routes.intents:
            return None
        return match.name, match.argument

    def _route(self, ctx: Context[Any], msg: IncomingMessage) -> tuple[Route, object, Redirect | None]:
        """The route, its argument, and what to remember as the screen if the route shows one."""
        routes = self.routes
        if msg.kind == MessageKind.FOLLOW:
            return routes.welcome, "", None
        if msg.kind == MessageKind.IMAGE:  # a flow waiting for a photo takes it; else the certificate claim
            return (routes.photos[ctx.state] if ctx.state and ctx.state in routes.photos else routes.image), "", None
        if msg.kind == MessageKind.ACTION:
            route = routes.actions.get(type(msg.action)) if msg.action is not None else None
            if route is None or msg.action is None:
                return routes.bad_button, "", None
            return route, msg.action, Redirect(action=msg.action)
        if msg.kind != MessageKind.TEXT:
            return routes.unsupported, "", None
        text = clean_text(msg.text)
        if not text:
            return routes.intents["help"], "", Redirect(rule="help")
        if len(text) > MAX_TEXT_CHARS:
            return routes.too_long, "", None
        if ctx.state and ctx.state in routes.states:
            command = self.intents.command(text)
            if command is None or command.name not in routes.escapes:
                return routes.states[ctx.state], text, None
            return routes.intents[command.name], command.argument, Redirect(rule=command.name, text=command.argument)
        understood = self.intents.understand(text)
        if not may_keep(text):  # shaped like a national ID: never a command's argument; the fallback warns
            return routes.fallback, understood, None
        match = understood.match()
        if match is not None and match.name in routes.intents:
            return routes.intents[match.name], match.argument, Redirect(rule=match.name, text=match.argument)
        if understood.options and all(o in routes.intents for o in understood.options):
            return routes.clarify, understood, None
        return routes.fallback, understood, Redirect(text=text)
