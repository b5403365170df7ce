"""Dialog tables over Telegram: the user types or presses, the answer is read from the fake Bot API's calls."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from tests.dialog import Press, Say
from tests.telegram import updates as up
from tests.telegram.conftest import Harness
from tests.telegram.fake_telegram import Call

_TAGS = re.compile(r"</?b>")


@dataclass
class TgDialog:
    """One Telegram user talking to the bot through the webhook; remembers the buttons last shown."""

    tg: Harness
    uid: int
    lang: str | None = "zh-hant"
    buttons: list[tuple[str, str, int]] = field(default_factory=list)
    """(label, callback data, message id) of the last answer's buttons."""

    def press_data(self, label: str) -> tuple[str, int]:
        """The callback data and message of the button labelled ``label`` (a card's buttons carry "n. ")."""
        for text, data, message_id in self.buttons:
            if text == label or text.split(". ", 1)[-1] == label:
                return data, message_id
        raise AssertionError(f"no button {label!r}; have {[b[0] for b in self.buttons]}")

    async def step(self, step: Say) -> list[Call]:
        """Play one step; returns the calls it caused (and checks every press was answered)."""
        since = len(self.tg.fake.calls)
        if isinstance(step, Press):
            data, message_id = self.press_data(step.text)
            update = up.callback(self.uid, data, message_id=message_id, lang=self.lang)
        else:
            update = up.text(self.uid, step.text, lang=self.lang)
        assert await self.tg.post(update) == 200
        calls = self.tg.new_calls(since)
        if isinstance(step, Press):
            answered = [c for c in calls if c.method == "answerCallbackQuery"]
            assert [c.params["callback_query_id"] for c in answered] == [update["callback_query"]["id"]]
        shown = [c for c in calls if c.method in ("sendMessage", "editMessageText") and c.status == 200]
        text = "\n".join(html.unescape(_TAGS.sub("", c.text)) for c in shown)
        labels = [label for c in shown for label, _ in c.buttons]
        everything = text + "\n" + "\n".join(labels)
        for s in step.shows:
            assert s in everything, f"{step.text!r}: expected {s!r} in\n{everything}"
        for s in step.hides:
            assert s not in everything, f"{step.text!r}: did not expect {s!r} in\n{everything}"
        for b in step.buttons:
            assert any(label == b or label.split(". ", 1)[-1] == b for label in labels), \
                f"{step.text!r}: no button {b!r} in {labels}"
        if shown:
            self.buttons = [(label, data, c.message_id or 0) for c in shown for label, data in c.buttons]
        return calls

    async def play(self, steps: list[Say]) -> None:
        """Every step in order."""
        for step in steps:
            await self.step(step)
