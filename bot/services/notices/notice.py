"""A notice: what happened, said by a domain service as a kind and JSON values, never as text.

A service that changes something a person must hear about (a seat freed, a class cancelled) builds a
:class:`Notice` — ``Notice("classes.promoted", {"class": {...}})`` — and hands it to the
:class:`~bot.services.notices.notifier.Notifier` with the employee it is for. The sentences are written
in ONE place, the renderer the notifier was built with (``(Notice, lang) -> list[Reply]``, injected at
start-up by ``bot.bootstrap``; the render functions live in the handlers layer). The values are JSON so
the renderer reads exactly what could have been stored, and so equal notices render once per language.

Every service declares the kinds it builds (e.g. ``bot.services.classes.NOTICE_KINDS``);
:func:`require_renderers` refuses to start when one of them has no render function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.conversation import Reply

KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$")
MAX_KIND_LENGTH = 64
"""The ``outbox.kind`` column's length."""


@dataclass(frozen=True)
class Notice:
    """What happened: a dotted ``kind`` (``<feature>.<event>``) and the JSON-able ``values`` a renderer needs.

    ``values`` are normalised through JSON when the notice is built (tuples become lists, keys strings),
    so a renderer sees what a stored notice would hold; a value JSON cannot hold raises ``TypeError``.
    """

    kind: str
    values: Mapping[str, Any] = field(default_factory=dict)
    key: str = field(init=False, repr=False, compare=False)
    """The values as canonical JSON: equal notices of one kind render once per language."""

    def __post_init__(self) -> None:
        if len(self.kind) > MAX_KIND_LENGTH or not KIND_PATTERN.match(self.kind):
            raise ValueError(f"notice kind {self.kind!r} is not a dotted name like classes.promoted")
        key = json.dumps(self.values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "values", json.loads(key))
        object.__setattr__(self, "key", key)


Renderer = Callable[[Notice, str], list[Reply]]
"""Writes a notice in one language (``zh-TW`` or ``en``) as the replies the recipient gets."""


@dataclass(frozen=True)
class NoticeTo:
    """A notice for one employee; each of their chat accounts gets a row keyed ``dedupe_key:<channel>``."""

    employee_id: int
    notice: Notice
    dedupe_key: str


class MissingRenderer(LookupError):
    """A service builds a notice kind that nothing can write (a start-up error)."""


def require_renderers(kinds: Iterable[str], rendered: Collection[str]) -> None:
    """Refuse to start when a declared notice kind has no render function.

    Raises:
        MissingRenderer: naming every kind without one.
    """
    missing = sorted(set(kinds) - set(rendered))
    if missing:
        raise MissingRenderer(f"notice kinds without a render function: {', '.join(missing)} "
                              "(add one to the renderer registry, handlers/notices.py)")
