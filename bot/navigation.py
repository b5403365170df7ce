"""What the conversation remembers about the screens shown: where "back" goes, and the open confirmation card.

Kept in the channel account's ``state_data`` under :data:`NAV_KEY`, beside (never inside) a flow's own data:
the dispatcher takes it out before a handler sees ``ctx.data`` and puts it back after.

- **Screens**: the last :data:`MAX_SCREENS` answers of routes marked ``Route.screen`` (menus, lists, a course,
  search results), each as what produced it (a button's payload, a command and its argument, a searched
  text), so "返回" / "back" shows the one before again. Only screens are kept: showing one again changes
  nothing, while a confirmation or a flow step is never replayed.
- **The confirmation card** of the last answer (its first and last buttons), so that typing 好 / 確認 / yes or
  the button's label presses the first button and 不要 / no the last (``confirm`` in data/intents.yaml).
- **The buttons of the last answer** (at most :data:`MAX_LABELS`, labels and payloads), so that outside a flow typing a
  button's label exactly (本機關全體, 退回, 開課班期) presses it instead of being read as a search or a command.

Nothing typed is kept but what a search or a command already keeps (its words); a text shaped like a
national ID is never kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.conversation import Action, PayloadError, Redirect, Reply

NAV_KEY = "_nav"
MAX_SCREENS = 5
MAX_LABELS = 13
_NATIONAL_ID = re.compile(r"[A-Za-z][12]\d{8}")


def may_keep(text: str) -> bool:
    """Whether typed text may be kept in the conversation state (never what looks like a national ID)."""
    return _NATIONAL_ID.search(text) is None


def _screen_data(screen: Redirect) -> dict[str, str] | None:
    if screen.action is not None:
        return {"a": screen.action.pack()}
    if not may_keep(screen.text):
        return None
    if screen.rule is not None:
        return {"r": screen.rule, "t": screen.text}
    return {"t": screen.text}


def _screen(raw: object) -> Redirect | None:
    if not isinstance(raw, dict):
        return None
    try:
        if isinstance(raw.get("a"), str):
            return Redirect(action=Action.unpack(raw["a"]))
    except PayloadError:
        return None
    text = raw.get("t")
    if not isinstance(text, str):
        return None
    rule = raw.get("r")
    return Redirect(rule=rule if isinstance(rule, str) else None, text=text)


@dataclass(frozen=True)
class PendingConfirm:
    """The two buttons of the confirmation card last shown: packed payloads and labels."""

    yes: str
    yes_label: str
    no: str
    no_label: str


@dataclass
class Navigation:
    """The screens shown (oldest first), whether the last answer was the newest of them, the open card."""

    screens: list[Redirect] = field(default_factory=list)
    on_top: bool = False
    """The user is looking at ``screens[-1]`` (False after an answer that is no screen, e.g. a confirmation)."""
    confirm: PendingConfirm | None = None
    labels: tuple[tuple[str, str], ...] = ()
    """The last answer's buttons as (label, packed payload)."""

    @classmethod
    def split(cls, state_data: dict[str, Any] | None) -> tuple[Navigation, dict[str, Any]]:
        """The navigation kept in ``state_data`` and the rest of it (the flow's own data)."""
        data = dict(state_data or {})
        raw = data.pop(NAV_KEY, None)
        if not isinstance(raw, dict):
            return cls(), data
        screens = [s for s in (_screen(x) for x in raw.get("s", []) if isinstance(raw.get("s"), list)) if s]
        confirm = raw.get("c")
        pending = None
        if isinstance(confirm, list) and len(confirm) == 4 and all(isinstance(x, str) for x in confirm):
            pending = PendingConfirm(*confirm)
        shown = raw.get("b")
        labels = tuple((str(b[0]), str(b[1])) for b in shown if isinstance(b, list) and len(b) == 2) \
            if isinstance(shown, list) else ()
        return cls(screens[-MAX_SCREENS:], bool(raw.get("top")), pending, labels[:MAX_LABELS]), data

    def merged(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with this navigation kept in it (nothing added when there is nothing to remember)."""
        kept = [d for d in (_screen_data(s) for s in self.screens) if d is not None]
        if not kept and self.confirm is None and not self.labels:
            return data
        raw: dict[str, Any] = {"s": kept, "top": self.on_top}
        if self.confirm is not None:
            c = self.confirm
            raw["c"] = [c.yes, c.yes_label, c.no, c.no_label]
        if self.labels:
            raw["b"] = [list(b) for b in self.labels]
        return {**data, NAV_KEY: raw}

    @property
    def can_go_back(self) -> bool:
        """There is a screen to go back to."""
        return len(self.screens) >= 2 or (bool(self.screens) and not self.on_top)

    def back(self) -> Redirect | None:
        """The screen "back" shows (the one before the current, or the current after a non-screen answer)."""
        if self.on_top and len(self.screens) >= 2:
            self.screens.pop()
        elif self.on_top or not self.screens:
            return None
        self.on_top = True
        return self.screens[-1]

    def shown(self, screen: Redirect | None) -> None:
        """Record the answer just given: a screen (``screen``), or something else (None)."""
        if screen is None:
            self.on_top = False
            return
        if not (self.screens and self.screens[-1] == screen):
            self.screens = [*self.screens, screen][-MAX_SCREENS:]
        self.on_top = True

    def showed_replies(self, replies: list[Reply]) -> None:
        """Remember the buttons of ``replies`` and their confirmation card (the last one), or that there is none."""
        labels = [(c.label, c.action.pack()) for r in replies for c in r.choices]
        self.labels = tuple(labels[-MAX_LABELS:])
        cards = [r for r in replies if r.type == "confirm" and len(r.choices) >= 2]
        if not cards:
            self.confirm = None
            return
        yes, no = cards[-1].choices[0], cards[-1].choices[-1]
        self.confirm = PendingConfirm(yes.action.pack(), yes.label, no.action.pack(), no.label)
