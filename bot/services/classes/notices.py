"""Notices about a class: promoted, class cancelled, substituted (out and in), class moved."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Action, ActionKind, Choice, Reply
from bot.db.models.classes import TrainingClass
from bot.db.models.core import ChannelAccount
from bot.services.classes import format as fmt
from bot.services.classes.deps import Deps
from bot.services.notices import enqueue

NoticeKind = Literal["promoted", "class_cancelled", "substituted_out", "substituted_in", "class_rescheduled",
                     "class_moved", "class_rescheduled_moved"]


def notice_replies(deps: Deps, kind: NoticeKind, cls: TrainingClass, lang: str, **values: Any) -> list[Reply]:
    """The message an employee gets about a class, in their language, with a "my enrollments" button."""
    t = deps.t(lang)
    lines = [t(f"classes.notice.{kind}", **values), *fmt.summary_lines(deps.catalog, cls, lang, t)]
    if kind in ("promoted", "substituted_in"):
        if cls.materials_url:
            lines.append(t("classes.field.materials", url=cls.materials_url))
        lines.append(fmt.reminders_text(deps.rules, t))
        lines.append(t("classes.notice.cancel_hint", closes=fmt.instant_text(cls.closes_at, lang, is_end=True)))
    return [Reply.plain("\n".join(lines), [Choice(t("menu.button.enrollments"), Action(ActionKind.MY_ENROLLMENTS))])]


async def notify(session: AsyncSession, deps: Deps, employee_id: int, kind: NoticeKind, cls: TrainingClass, *,
                 dedupe_key: str, now: datetime, **values: Any) -> int:
    """Queue a notice to every chat account of the employee, each in its own language; returns rows queued."""
    accounts = (await session.execute(select(ChannelAccount).where(ChannelAccount.employee_id == employee_id)
                                      .order_by(ChannelAccount.id))).scalars().all()
    queued = 0
    for account in accounts:
        replies = notice_replies(deps, kind, cls, account.lang, **values)
        if await enqueue(session, account, replies, dedupe_key=f"{dedupe_key}:{account.channel}", now=now):
            queued += 1
    return queued
