"""The console channel: chat with the bot in a terminal, or script it one message per line.

Buttons show as numbered choices; typing the number presses the button. With ``--json`` every input
line produces exactly one JSON object: ``{"input", "intent", "replies"}`` (see docs/cli.md).

Notices queued for the chat's user in the outbox (a waitlist promotion …) are delivered while the chat
runs: before the first line, after every answer, and every few seconds while waiting for input. In text
mode they print among the answers, headed 【通知】; with ``--json`` each notice is one JSON object
``{"notice": {"replies": [...]}}`` on **stderr**, so stdout keeps exactly one object per input line.
The chat is a :class:`~bot.channels.base.Channel` without routes whose sender prints into it; its
outbox worker comes from :func:`bot.bootstrap.build_worker`, as the server's does.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from bot.bootstrap import Runtime, build_worker
from bot.conversation import MAX_IMAGE_BYTES, Choice, IncomingMessage, Intent, MessageKind, Reply
from bot.dispatcher import Outcome
from bot.services.notices import DeliveryWorker, Recipient

if TYPE_CHECKING:
    from bot.channels.base import Route

CHANNEL = "console"
PHOTO_COMMAND = "/photo"
"""``/photo PATH``: send the file at PATH as a photo (a certificate), as a chat app would."""


def photo_message(user_id: str, path: str) -> IncomingMessage:
    """An image message from a file on disk, read up to the channels' size cap (``/photo PATH``)."""
    from pathlib import Path

    problem: str | None = None
    data: bytes | None = None
    try:
        with Path(path).expanduser().open("rb") as fh:
            data = fh.read(MAX_IMAGE_BYTES + 1)
    except OSError:
        problem = "unavailable"
    else:
        if len(data) > MAX_IMAGE_BYTES:
            data, problem = None, "too_large"
    return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.IMAGE, image=data, image_problem=problem)


def numbered_buttons(replies: list[Reply]) -> list[Choice]:
    """All buttons of a set of replies in display order (card buttons, then the reply's own choices)."""
    buttons: list[Choice] = []
    for reply in replies:
        for card in reply.cards:
            buttons.extend(card.buttons)
        buttons.extend(reply.choices)
    return buttons


def render_text(replies: list[Reply], prompt: str) -> str:
    """Render replies for a person at a terminal, numbering every button."""
    out: list[str] = []
    number = 0
    for reply in replies:
        out.append(reply.text)
        if reply.image is not None and (reply.image.path or reply.image.url):
            # the console's picture: the local file (certificate photos), else its address (an announcement's)
            out.append(f"  🖼 {reply.image.path or reply.image.url}")
        for link in reply.links:  # a link button cannot be pressed here: its label and the address to open
            out.append(f"  🔗 {link.label}: {link.url}")
        for card in reply.cards:
            out.append("")
            out.append(f"  ■ {card.title}")
            if card.subtitle:
                out.append(f"    {card.subtitle}")
            if card.body:
                out.extend(f"    {line}" for line in card.body.splitlines())
            for button in card.buttons:
                number += 1
                out.append(f"    [{number}] {button.label}")
        if reply.choices:
            out.append(prompt)
            for choice in reply.choices:
                number += 1
                out.append(f"  [{number}] {choice.label}")
        out.append("")
    return "\n".join(out)


def reply_json(reply: Reply, first_number: int) -> dict[str, Any]:
    """The JSON form of a reply for ``--json``: buttons flattened into numbered ``choices``."""
    d = reply.to_dict()
    buttons = [b for card in reply.cards for b in card.buttons] + list(reply.choices)
    if buttons:
        d["choices"] = [{"number": first_number + i, **b.to_dict()} for i, b in enumerate(buttons)]
    return d


def replies_json(replies: list[Reply]) -> list[dict[str, object]]:
    """The ``--json`` form of a list of replies, buttons numbered across all of them from 1."""
    rendered: list[dict[str, object]] = []
    number = 1
    for reply in replies:
        rendered.append(reply_json(reply, number))
        number += len(rendered[-1].get("choices", []))  # type: ignore[arg-type]
    return rendered


@dataclass
class ConsoleChat:
    """One console conversation: remembers the last numbered buttons so a number presses one.

    It is the console's :class:`~bot.channels.base.Channel` (no routes) and its own outbox sender.
    """

    app: Runtime
    user_id: str
    json_mode: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    _buttons: list[Choice] = field(default_factory=list)

    def _message(self, line: str) -> IncomingMessage | str:
        text = line.strip()
        if text.lower().startswith(PHOTO_COMMAND + " ") or text.lower() == PHOTO_COMMAND:
            return photo_message(self.user_id, text[len(PHOTO_COMMAND):].strip())
        if text.isdigit() and len(text) <= 2:  # a button number (also before any button was shown)
            index = int(text)
            if 1 <= index <= len(self._buttons):
                choice = self._buttons[index - 1]
                return IncomingMessage(channel=CHANNEL, user_id=self.user_id, kind=MessageKind.ACTION,
                                       text=choice.label, action=choice.action)
            if len(text) == 1:  # a mistyped button number; longer ones are answers (a score, a year)
                return str(index)
        return IncomingMessage.from_text(CHANNEL, self.user_id, line)

    async def _lang(self) -> str:
        from bot.db.channel_accounts import lang_of

        async with self.app.sessions() as session:
            return await lang_of(session, CHANNEL, self.user_id, default=self.app.settings.default_lang)

    async def send(self, line: str) -> Outcome:
        """Handle one input line and print the answer."""
        msg = self._message(line)
        if isinstance(msg, str):
            lang = await self._lang()
            outcome = Outcome([Reply.plain(self.app.texts.get("console.no_such_choice", lang, number=msg))],
                              Intent.UNKNOWN)
        else:
            outcome = await self.app.dispatcher.handle(msg)
            self._buttons = numbered_buttons(outcome.replies) or self._buttons
        self._print(line, outcome, await self._lang())
        return outcome

    async def show_notice(self, replies: list[Reply]) -> None:
        """Print a notice from the outbox (text: among the answers; --json: one object on stderr)."""
        if self.json_mode:
            self.err.write(json.dumps({"notice": {"replies": replies_json(replies)}}, ensure_ascii=False) + "\n")
            self.err.flush()
            return
        lang = await self._lang()
        prompt = self.app.texts.get("console.choices", lang)
        self.out.write(self.app.texts.get("console.notice", lang) + "\n" + render_text(replies, prompt) + "\n")
        self.out.flush()
        self._buttons = numbered_buttons(replies) or self._buttons

    # ------------------------------------------------------------------ the Channel protocol

    @property
    def name(self) -> str:
        """``console``."""
        return CHANNEL

    @property
    def sender(self) -> ConsoleChat:
        """The chat itself: a notice is printed into it."""
        return self

    def routes(self) -> Sequence[Route]:
        """None: the console is a terminal, not a webhook."""
        return ()

    async def start(self) -> None:
        """Nothing to open: the terminal is there."""

    async def stop(self, grace: float) -> None:
        """Nothing queued and no client to close: every line is answered before the next is read."""

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        """Print a notice from the outbox (the console cannot fail to deliver to the person at the terminal)."""
        await self.show_notice(replies)

    def _print(self, line: str, outcome: Outcome, lang: str) -> None:
        if self.json_mode:
            obj = {"input": line, "intent": outcome.intent.value, "replies": replies_json(outcome.replies)}
            self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            prompt = self.app.texts.get("console.choices", lang)
            self.out.write(render_text(outcome.replies, prompt) + "\n")
        self.out.flush()


async def _notice_worker(app: Runtime, chat: ConsoleChat) -> DeliveryWorker | None:
    """The outbox worker of the chat's own user (None while the user has no account yet)."""
    from bot.db.channel_accounts import find_account

    async with app.sessions() as session:
        account = await find_account(session, CHANNEL, chat.user_id)
    if account is None:
        return None
    return build_worker(app, [chat], account_ids=frozenset({account.id}), poll_interval=3.0)


async def run_console(app: Runtime, user_id: str, *, json_mode: bool, stdin: TextIO | None = None,
                      out: TextIO | None = None, err: TextIO | None = None, notices: bool = True) -> int:
    """Read lines until end of input, answering each; returns the exit code (0).

    With ``notices`` the chat user's outbox notices are delivered as the module docstring says.
    """
    stdin = stdin or sys.stdin
    chat = ConsoleChat(app, user_id, json_mode, out or sys.stdout, err or sys.stderr)
    worker = await _notice_worker(app, chat) if notices else None
    await chat.start()
    try:
        if worker is not None:
            await worker.run_until_idle()
            worker.start()
        return await _chat_loop(app, chat, stdin, json_mode, worker)
    finally:
        if worker is not None:
            await worker.stop()
            await worker.run_until_idle()
        await chat.stop(0)


async def _chat_loop(app: Runtime, chat: ConsoleChat, stdin: TextIO, json_mode: bool,
                     worker: DeliveryWorker | None) -> int:
    interactive = stdin.isatty() and not json_mode
    if interactive:
        await chat.send("help")
    while True:
        if interactive:
            chat.out.write("> ")
            chat.out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        line = line.rstrip("\r\n")
        if interactive and line.strip().lower() in {"exit", "quit", "/quit", "離開"}:
            break
        if not line.strip() and not json_mode:
            continue
        await chat.send(line)
        if worker is not None:
            await worker.run_until_idle()
    if interactive:
        chat.out.write(app.texts.get("console.bye", app.settings.default_lang) + "\n")
    return 0
