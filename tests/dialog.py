"""Dialog tables: conversation tests that read like the conversation.

await run_dialog(app, "T0001", [
Say("課程", intent="browse", shows=["A｜打磨必備職能"]),
Press("A｜打磨必備職能", intent="browse", shows=["領導管理訓練"]),
])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.bootstrap import Runtime
from bot.channels.console import photo_message
from bot.conversation import Choice, IncomingMessage, MessageKind, Reply
from bot.dispatcher import Outcome
from bot.services.accounts import bind_console_account


@dataclass(frozen=True)
class Say:
    """The user types ``text``; the answer must come from ``intent`` and contain every string in ``shows``."""

    text: str
    intent: str | None = None
    shows: list[str] = field(default_factory=list)
    hides: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Press(Say):
    """The user presses the button labelled ``text`` from the previous answer."""


@dataclass(frozen=True)
class Photo(Say):
    """The user sends the photo in the file ``text`` (the console's ``/photo PATH``; console channel only)."""


def all_text(replies: list[Reply]) -> str:
    """Everything a user would read: texts, card titles and bodies, button labels."""
    parts: list[str] = []
    for r in replies:
        parts.append(r.text)
        for c in r.cards:
            parts.extend([c.title, c.subtitle, c.body, *(b.label for b in c.buttons)])
        parts.extend(ch.label for ch in r.choices)
    return "\n".join(parts)


def buttons_of(replies: list[Reply]) -> list[Choice]:
    """Every button of the replies, in order."""
    out: list[Choice] = []
    for r in replies:
        for c in r.cards:
            out.extend(c.buttons)
        out.extend(r.choices)
    return out


async def run_dialog(app: Runtime, user: str, steps: list[Say], channel: str = "console") -> list[Outcome]:
    """Play the steps against the dispatcher and check every answer; returns the outcomes."""
    outcomes: list[Outcome] = []
    buttons: list[Choice] = []
    if channel == "console":  # the terminal user is bound to the employee of that number, as in `abc-bot chat`
        async with app.sessions.begin() as session:
            await bind_console_account(session, user, lang=app.settings.default_lang, now=app.clock.now())
    for n, step in enumerate(steps, start=1):
        if isinstance(step, Press):
            matching = [b for b in buttons if b.label == step.text]
            assert matching, f"step {n}: no button {step.text!r}; have {[b.label for b in buttons]}"
            msg = IncomingMessage(channel=channel, user_id=user, kind=MessageKind.ACTION, text=step.text,
                                  action=matching[0].action)
        elif isinstance(step, Photo):
            assert channel == "console", "photos are sent on the console channel"
            msg = photo_message(user, step.text)
        else:
            msg = IncomingMessage.from_text(channel, user, step.text)
        outcome = await app.dispatcher.handle(msg)
        text = all_text(outcome.replies)
        if step.intent is not None:
            assert outcome.intent == step.intent, f"step {n} ({step.text!r}): intent {outcome.intent}\n{text}"
        for s in step.shows:
            assert s in text, f"step {n} ({step.text!r}): expected {s!r} in\n{text}"
        for s in step.hides:
            assert s not in text, f"step {n} ({step.text!r}): did not expect {s!r} in\n{text}"
        labels = [b.label for b in buttons_of(outcome.replies)]
        for b in step.buttons:
            assert b in labels, f"step {n} ({step.text!r}): expected button {b!r} in {labels}"
        buttons = buttons_of(outcome.replies) or buttons
        outcomes.append(outcome)
    return outcomes
