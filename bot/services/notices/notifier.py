"""The notifier: notices for employees → one outbox row per chat account, each in that account's language.

:meth:`Notifier.notify` costs the same few statements for one employee or thirty thousand: ONE SELECT of
every recipient's channel accounts (split only past :data:`~bot.services.notices.outbox.MAX_PARAMETERS`
employees), each distinct notice rendered once per language (equal kind and values share the replies),
then :func:`~bot.services.notices.outbox.enqueue_many`. It is built once at start-up with the renderer
(``bot.bootstrap``) and handed to the services that tell people things (the classes feature's ``Deps``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import ChannelAccount
from bot.services.notices.notice import NoticeTo, Renderer
from bot.services.notices.outbox import MAX_PARAMETERS, OutboxRow, enqueue_many

_AccountRow = Row[int | None, int, str, str, bool]
"""employee_id, id, channel, lang, reachable of a channel account."""


@dataclass(frozen=True)
class Notifier:
    """Queues notices to employees' chat accounts through the one injected :data:`Renderer`."""

    render: Renderer

    async def notify(self, session: AsyncSession, notices: Iterable[NoticeTo], *, now: datetime,
                     batch_id: str | None = None, not_before: datetime | None = None) -> int:
        """Queue each notice to every chat account of its employee; returns how many rows were new.

        Args:
            session: the caller's transaction (the notices go out only if the change they tell commits).
            notices: who is told what, and each notice's key (rows are keyed ``<key>:<channel>``, so
                telling the same thing twice queues nothing new).
            now: the current time.
            batch_id: labels the rows of one sending for the delivery report.
            not_before: do not deliver before this instant (default: now).

        An employee without a chat account gets nothing; an unreachable account gets a ``skipped`` row.
        """
        return await enqueue_many(session, await self.rows(session, notices, batch_id=batch_id,
                                                           not_before=not_before), now=now)

    async def rows(self, session: AsyncSession, notices: Iterable[NoticeTo], *, batch_id: str | None = None,
                   not_before: datetime | None = None,
                   skip_reasons: Mapping[str, str] | None = None,
                   not_befores: Mapping[str, datetime] | None = None) -> list[OutboxRow]:
        """The outbox rows :meth:`notify` would write, rendered, without writing them (``reminders due``).

        ``skip_reasons`` / ``not_befores``: per notice key, record its rows skipped with that reason /
        hold them until that instant.
        """
        items = list(notices)
        if not items:
            return []
        accounts = await self._accounts(session, {n.employee_id for n in items})
        rendered: dict[tuple[str, str, str], Sequence[Mapping[str, Any]]] = {}
        rows = []
        for item in items:
            notice = item.notice
            skip = skip_reasons.get(item.dedupe_key) if skip_reasons else None
            hold = not_befores.get(item.dedupe_key, not_before) if not_befores else not_before
            for account in accounts.get(item.employee_id, ()):
                cache_key = (notice.kind, account.lang, notice.key)
                payload = rendered.get(cache_key)
                if payload is None:
                    payload = rendered[cache_key] = [r.to_dict() for r in self.render(notice, account.lang)]
                rows.append(OutboxRow(account.id, account.channel, bool(account.reachable), payload,
                                      f"{item.dedupe_key}:{account.channel}", notice.kind, batch_id, hold, skip))
        return rows

    @staticmethod
    async def _accounts(session: AsyncSession, employee_ids: set[int]) -> dict[int | None, list[_AccountRow]]:
        """The chat accounts of these employees (``id, channel, lang, reachable``, in account order), by employee."""
        ids = sorted(employee_ids)
        found: dict[int | None, list[_AccountRow]] = defaultdict(list)
        conn = await session.connection()  # Core: plain rows, without the ORM's per-row result work
        for start in range(0, len(ids), MAX_PARAMETERS):
            rows = await conn.execute(
                select(ChannelAccount.employee_id, ChannelAccount.id, ChannelAccount.channel, ChannelAccount.lang,
                       ChannelAccount.reachable)
                .where(ChannelAccount.employee_id.in_(ids[start:start + MAX_PARAMETERS]))
                .order_by(ChannelAccount.id))
            for row in rows:
                found[row.employee_id].append(row)
        return found
