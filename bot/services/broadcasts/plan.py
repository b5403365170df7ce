"""Preview: who an announcement reaches, on which channel, in which agency, what it costs on LINE.

LINE counts a message object delivered to one person once; push and multicast use the monthly quota,
so the cost is (LINE recipients) × (message objects). The quota comes through :class:`Insights`, a
small protocol the LINE channel implements (its quota and consumption endpoints) and the bootstrap
injects; without LINE configured the quota is unknown and nothing is refused for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import Employee
from bot.services.accounts import Scope
from bot.services.broadcasts.audience import (
    Audience,
    AudienceError,
    Member,
    Term,
    resolve,
    scope_problem,
    unreachable,
)
from bot.services.broadcasts.compose import Content, fill
from bot.services.catalog import RulesFile

COSTED_CHANNELS = frozenset({"line"})
"""Channels whose pushed messages count against a paid quota."""


@dataclass(frozen=True)
class Quota:
    """LINE's monthly quota: ``limit`` None means no limit."""

    limit: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        """Messages left this month (None: unlimited)."""
        return None if self.limit is None else max(self.limit - self.used, 0)


class Insights(Protocol):
    """What a paid channel tells about sending: its quota, and an aggregation unit's opens and clicks."""

    async def quota(self) -> Quota | None:
        """The current month's quota and consumption (None when it cannot be read)."""
        ...

    async def unit_stats(self, unit: str, since: date, until: date) -> dict[str, int] | None:
        """Opens and clicks of the messages sent under ``unit`` (None when not available)."""
        ...


class Refused(Exception):
    """HR may not send this (scope, quota, quiet hours …): one sentence, no counts of other agencies."""


@dataclass
class Plan:
    """An announcement worked out: its members, who is reachable where, and what it costs."""

    audience: Audience
    content: Content
    members: list[Member]
    optional: bool = False
    by_channel: Counter[str] = field(default_factory=Counter)
    by_agency: Counter[str] = field(default_factory=Counter)
    unreachable: list[tuple[Member, str]] = field(default_factory=list)
    quota: Quota | None = None

    @property
    def recipients(self) -> int:
        """Chat accounts that will receive it."""
        return sum(self.by_channel.values())

    @property
    def cost(self) -> int:
        """LINE messages it uses from the monthly quota."""
        return sum(n for ch, n in self.by_channel.items() if ch in COSTED_CHANNELS) * self.content.message_objects

    @property
    def over_quota(self) -> bool:
        """True when the cost is more than what is left of the quota."""
        remaining = self.quota.remaining if self.quota else None
        return remaining is not None and self.cost > remaining

    def sample(self, lang: str = "zh-TW") -> str | None:
        """The text as the first reachable recipient would read it (None without recipients)."""
        for m in self.members:
            if not m.opted_out and m.reachable:
                text = self.content.text_en if lang == "en" and self.content.text_en else self.content.text
                return fill(text, person_of(m))
        return None

    def counts(self) -> dict[str, Any]:
        """The figures kept with the announcement and shown in the preview."""
        reasons = Counter(reason for _, reason in self.unreachable)
        unreachable_by_agency: dict[str, Counter[str]] = {}
        for m, reason in self.unreachable:
            unreachable_by_agency.setdefault(m.agency, Counter())[reason] += 1
        people = sum(1 for m in self.members if not m.opted_out and m.reachable)
        return {"members": len(self.members), "people": people, "recipients": self.recipients,
                "by_channel": dict(self.by_channel),
                "by_agency": dict(sorted(self.by_agency.items())), "unreachable": dict(reasons),
                "unreachable_by_agency": {a: dict(c) for a, c in sorted(unreachable_by_agency.items())},
                "message_objects": self.content.message_objects, "cost": self.cost,
                "quota_remaining": self.quota.remaining if self.quota else None,
                "personalised": self.content.personalised}


def person_of(m: Member) -> dict[str, str]:
    """The placeholder values of a member."""
    return {"name": m.name, "employee_no": m.employee_no, "agency": m.agency}


async def _full_agency_names(session: AsyncSession, audience: Audience, scope: Scope) -> Audience:
    """``agency:人事處`` as the roster names it (``桃園市政府人事處``, when one agency ends so or contains it).

    An agency officer's names are matched against their own agencies only: anything else is left for the
    scope check to refuse, with the one sentence that says nothing of other agencies.

    Raises:
        AudienceError: no agency on the active roster is meant, or several are (named, so HR can choose).
    """
    named = audience.values("agency")
    if not named:
        return audience
    if scope.city:
        agencies = sorted(a for a in (await session.execute(select(Employee.agency).where(Employee.active.is_(True))
                                                            .distinct())).scalars() if a)
    else:
        agencies = sorted(scope.agencies)
    terms = []
    for term in audience.terms:
        if term.key == "agency" and term.value not in agencies:
            meant = [a for a in agencies if a.endswith(term.value)] or [a for a in agencies if term.value in a]
            if not scope.city and len(meant) != 1:
                terms.append(term)
                continue
            if not meant:
                raise AudienceError(f"no one on the roster belongs to agency {term.value!r}; "
                                    f"the agencies are: {'、'.join(agencies)}")
            if len(meant) > 1:
                raise AudienceError(f"agency:{term.value} could be {'、'.join(meant)}; write the full name")
            term = Term("agency", meant[0])
        terms.append(term)
    spec = ",".join("all" if t.key == "all" else f"{t.key}:{t.value}" for t in terms)
    return Audience(spec, tuple(terms))


async def make_plan(session: AsyncSession, audience: Audience, content: Content, *, scope: Scope, rules: RulesFile,
                    today: date, insights: Insights | None = None, optional: bool = False,
                    channels: Collection[str] | None = None) -> Plan:
    """Check the sender's scope and the content, resolve the audience and count (preview and send both call it).

    Raises:
        Refused: the sender may not address this audience (said before anything is counted).
        AudienceError, ComposeError: a SPEC or content that cannot be used.
    """
    audience = await _full_agency_names(session, audience, scope)
    problem = scope_problem(audience, scope)
    if problem:
        raise Refused(problem)
    content.check()
    members = await resolve(session, audience, rules=rules, today=today, optional=optional)
    plan = Plan(audience, content, members, optional=optional, unreachable=unreachable(members))
    for m in members:
        if m.opted_out:
            continue
        for account in m.reachable:
            if channels is None or account.channel in channels:
                plan.by_channel[account.channel] += 1
                plan.by_agency[m.agency] += 1
    if insights is not None and plan.cost:
        plan.quota = await insights.quota()
    return plan


__all__ = ["AudienceError", "Insights", "Plan", "Quota", "Refused", "make_plan", "person_of"]
