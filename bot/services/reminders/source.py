"""What a reminder source is: the registry entry that decides reminders from rows, and checks them again.

A source (class reminders, deadline reminders, the survey; the certificate feature's claim windows next)
answers two questions:

* :meth:`ReminderSource.due`: which reminders have their moment in ``(since, until]`` — each a
  :class:`Due` with a dedupe key derived from the rows it is about (so deciding twice queues once) and the
  instant after which a missed one is no longer worth sending;
* :meth:`ReminderSource.still_true`: just before delivery, is the reminder still true (the seat not
  cancelled, the hours not completed since)? ``None`` if so, else the reason it is skipped. The delivery
  worker asks it for a whole claimed batch at once: a source may also have ``still_true_many(session,
  kind, dedupe_keys, now) -> {key: reason}`` (the built-in ones do, as a few set queries; their
  ``still_true`` is that for one key); for a source without it each key is asked in turn.

A feature adds a source by passing it to :class:`~bot.services.reminders.sweep.Reminders` at start-up
(``bot.bootstrap``); its notice kinds need render functions like every other notice kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import TAIPEI
from bot.services.catalog import Catalog, RulesFile
from bot.services.notices import Notice, QuietHours
from bot.services.reminders.settings import RemindersFile


@dataclass(frozen=True)
class Due:
    """One reminder for one employee: what, its key, its moment and until when it is still useful."""

    employee_id: int
    notice: Notice
    dedupe_key: str
    moment: datetime
    useful_until: datetime


@dataclass(frozen=True)
class SweepContext:
    """What sources read besides the database: the plan's files and the quiet hours."""

    settings: RemindersFile
    rules: RulesFile
    catalog: Catalog
    quiet: QuietHours


class ReminderSource(Protocol):
    """Decides one family of reminders from the database's rows (see the module docstring)."""

    @property
    def name(self) -> str:
        """The source's watermark key (``class``, ``deadline``, ``survey``)."""
        ...

    @property
    def category(self) -> str:
        """The opt-out category of 提醒設定 it belongs to (``class``, ``deadline``, ``survey``)."""
        ...

    @property
    def kinds(self) -> Sequence[str]:
        """The notice kinds it builds (each needs a render function)."""
        ...

    async def due(self, session: AsyncSession, ctx: SweepContext, since: datetime, until: datetime, *,
                  only: int | None = None) -> list[Due]:
        """The reminders whose moment falls in ``(since, until]`` (only employee ``only``'s when given)."""
        ...

    async def still_true(self, session: AsyncSession, kind: str, dedupe_key: str, now: datetime) -> str | None:
        """None when the reminder keyed ``dedupe_key`` is still worth delivering at ``now``, else why not."""
        ...


def at_local(day: object, at: time) -> datetime:
    """The aware instant of Taipei ``day`` (a date) at ``at``."""
    return datetime.combine(day, at, tzinfo=TAIPEI)  # type: ignore[arg-type]


def key_parts(dedupe_key: str, count: int) -> list[int] | None:
    """The ``count`` numbers after the kind in ``rem.x:<n1>:<n2>[:<channel>]``, or None when malformed."""
    parts = dedupe_key.split(":")[1:1 + count]
    try:
        return [int(p) for p in parts] if len(parts) == count else None
    except ValueError:
        return None


def keyed_ids(dedupe_keys: Iterable[str], count: int) -> dict[str, list[int]]:
    """:func:`key_parts` of each well-formed key (a malformed one is left out: nothing to check)."""
    out = {}
    for key in dedupe_keys:
        ids = key_parts(key, count)
        if ids is not None:
            out[key] = ids
    return out


def chunks(values: Iterable[int], size: int = 5000) -> Iterator[list[int]]:
    """``values`` sorted, in lists of at most ``size`` (for ``IN (…)`` lists)."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def day_before(at: datetime) -> datetime:
    """The same Taipei wall time one day earlier."""
    local = at.astimezone(TAIPEI)
    return datetime.combine(local.date() - timedelta(days=1), local.timetz())
