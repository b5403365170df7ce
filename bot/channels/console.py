"""The console channel: chat with the bot in a terminal, or script it one message per line.

Buttons show as numbered choices; typing the number presses the button. With ``--json`` every input
line produces exactly one JSON object: ``{"input", "intent", "replies"}`` (see docs/cli.md).
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.bootstrap import App
from bot.conversation import Choice, IncomingMessage, Intent, MessageKind, Reply
from bot.dispatcher import Outcome

CHANNEL = "console"


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


@dataclass
class ConsoleChat:
    """One console conversation: remembers the last numbered buttons so a number presses one."""

    app: App
    user_id: str
    json_mode: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    _buttons: list[Choice] = field(default_factory=list)

    def _message(self, line: str) -> IncomingMessage | str:
        text = line.strip()
        if text.isdigit() and self._buttons and len(text) <= 3:
            index = int(text)
            if 1 <= index <= len(self._buttons):
                choice = self._buttons[index - 1]
                return IncomingMessage(channel=CHANNEL, user_id=self.user_id, kind=MessageKind.ACTION,
                                       text=choice.label, action=choice.action)
            return str(index)
        return IncomingMessage.from_text(CHANNEL, self.user_id, line)

    async def _lang(self) -> str:
        from sqlalchemy import select

        from bot.db.models import ChannelAccount

        async with self.app.sessions() as session:
            lang = (await session.execute(select(ChannelAccount.lang).where(
                ChannelAccount.channel == CHANNEL, ChannelAccount.external_id == self.user_id))).scalar()
        return lang or self.app.settings.default_lang

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

    def _print(self, line: str, outcome: Outcome, lang: str) -> None:
        if self.json_mode:
            replies, number = [], 1
            for reply in outcome.replies:
                replies.append(reply_json(reply, number))
                number += len(replies[-1].get("choices", []))
            obj = {"input": line, "intent": outcome.intent.value, "replies": replies}
            self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            prompt = self.app.texts.get("console.choices", lang)
            self.out.write(render_text(outcome.replies, prompt) + "\n")
        self.out.flush()


async def run_console(app: App, user_id: str, *, json_mode: bool, stdin: TextIO | None = None,
                      out: TextIO | None = None) -> int:
    """Read lines until end of input, answering each; returns the exit code (0)."""
    stdin = stdin or sys.stdin
    chat = ConsoleChat(app, user_id, json_mode, out or sys.stdout)
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
    if interactive:
        chat.out.write(app.texts.get("console.bye", app.settings.default_lang) + "\n")
    return 0
