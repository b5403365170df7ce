"""Claims from the photo to HR's decision: store, check, submit, withdraw, list, decide.

Every function takes the session and what it needs (:class:`CertDeps`, the clock's ``now``); the rules
are the pure functions of :mod:`.rules`, status changes the named ones of :mod:`.transitions`. HR's
decision is audited (``admin_audit``), final, and told to the claimant through the outbox in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import TAIPEI
from bot.db.models.certificates import CertificateClaim
from bot.db.models.core import Employee
from bot.services.accounts import Scope, record, scope_of
from bot.services.certificates import notices, transitions
from bot.services.certificates.deps import CertDeps
from bot.services.certificates.photos import Photo
from bot.services.certificates.rules import History, Outcome, check_claim, grade_of, window_end
from bot.services.certificates.settings import TestDef
from bot.services.notices import NoticeTo

DECIDE_ACTION = "certificates.decide"


def today_in_taipei(now: datetime) -> date:
    """The calendar day in Taipei at ``now`` (windows count in local days)."""
    return now.astimezone(TAIPEI).date()


async def start_claim(session: AsyncSession, deps: CertDeps, employee: Employee, photo: Photo, *,
                      plan_year: int, now: datetime) -> CertificateClaim:
    """Store a validated photo and open a draft for it; the employee's older drafts are withdrawn."""
    for old in (await session.execute(select(CertificateClaim.id).where(
            CertificateClaim.employee_id == employee.id, CertificateClaim.status == "draft"))).scalars():
        await transitions.withdraw(session, old, employee.id, now)
    deps.store.put(photo.sha256, photo.data)
    row = transitions.open_draft(employee_id=employee.id, agency=employee.agency, plan_year=plan_year,
                                 sha256=photo.sha256, size=photo.size, photo_type=photo.media_type,
                                 source_type=photo.source_type, now=now)
    session.add(row)
    await session.flush()
    return row


async def draft_of(session: AsyncSession, claim_id: int, employee_id: int) -> CertificateClaim | None:
    """The employee's own draft with this id (None: not theirs, or no longer a draft)."""
    row = await session.get(CertificateClaim, claim_id)
    if row is None or row.employee_id != employee_id or row.status != "draft":
        return None
    return row


async def history(session: AsyncSession, employee: Employee, scheme: str, *, exclude: int | None = None) -> History:
    """The ranks already rewarded and pending in ``scheme``, and the hire date."""
    rows = (await session.execute(select(CertificateClaim.status, CertificateClaim.tier_rank).where(
        CertificateClaim.employee_id == employee.id, CertificateClaim.scheme == scheme,
        CertificateClaim.status.in_(("approved", "pending")), CertificateClaim.id != (exclude or 0)))).all()
    return History(rewarded_ranks=tuple(r[1] for r in rows if r[0] == "approved" and r[1] is not None),
                   pending_ranks=tuple(r[1] for r in rows if r[0] == "pending" and r[1] is not None),
                   hire_date=employee.hire_date)


@dataclass(frozen=True)
class Answers:
    """What the employee answered in the wizard."""

    test: TestDef
    level_index: int | None
    scores: tuple[Decimal, ...]
    dated: date

    @property
    def scores_text(self) -> str | None:
        """The scores as stored (``785/310``)."""
        return "/".join(format(s.normalize(), "f") for s in self.scores) if self.scores else None

    @property
    def level_label(self) -> str | None:
        """The named level (zh-TW label) or None for a score test."""
        return self.test.levels[self.level_index].label if self.level_index is not None else None


async def evaluate(session: AsyncSession, deps: CertDeps, employee: Employee, answers: Answers, now: datetime,
                   *, exclude: int | None = None) -> tuple[str | None, Outcome]:
    """The grade of the answers and what the claim can expect today (checked before submitting)."""
    scheme = deps.settings.scheme(answers.test.scheme)
    grade = grade_of(deps.settings, deps.rules, answers.test, level_index=answers.level_index,
                     scores=answers.scores, on=answers.dated)
    past = await history(session, employee, scheme.id, exclude=exclude)
    return grade, check_claim(deps.rules, scheme, grade, answers.dated, today_in_taipei(now), past)


async def submit_claim(session: AsyncSession, deps: CertDeps, row: CertificateClaim, employee: Employee,
                       answers: Answers, now: datetime) -> Outcome:
    """Check again and, when eligible, make the draft a pending claim; the outcome either way."""
    grade, outcome = await evaluate(session, deps, employee, answers, now, exclude=row.id)
    if not outcome.eligible or grade is None or outcome.tier is None:
        return outcome
    scheme = deps.settings.scheme(answers.test.scheme)
    transitions.submit(row, scheme=scheme.id, test_id=answers.test.id, level_label=answers.level_label,
                       scores=answers.scores_text, grade=grade, tier_level=outcome.tier.level,
                       tier_rank=outcome.tier.rank, reward=outcome.tier.reward, dated=answers.dated,
                       window_end=window_end(deps.rules, scheme, answers.dated), now=now)
    await session.flush()
    return outcome


async def withdraw_claim(session: AsyncSession, claim_id: int, employee: Employee, now: datetime) -> bool:
    """Withdraw the employee's own open claim; False when it was decided (or is not theirs)."""
    return await transitions.withdraw(session, claim_id, employee.id, now)


async def claims_of(session: AsyncSession, employee_id: int) -> list[CertificateClaim]:
    """The employee's claims, newest first (drafts left unfinished and withdrawn drafts are not shown)."""
    rows = (await session.execute(select(CertificateClaim).where(
        CertificateClaim.employee_id == employee_id, CertificateClaim.submitted_at.is_not(None))
        .order_by(CertificateClaim.id.desc()))).scalars()
    return list(rows)


async def list_claims(session: AsyncSession, *, scope: Scope | None = None, agency: str | None = None,
                      status: str | None = None) -> list[tuple[CertificateClaim, Employee]]:
    """Submitted claims with their claimants, oldest first; ``scope`` limits to an officer's agencies."""
    q = (select(CertificateClaim, Employee).join(Employee, Employee.id == CertificateClaim.employee_id)
         .where(CertificateClaim.submitted_at.is_not(None))
         .order_by(CertificateClaim.submitted_at, CertificateClaim.id))
    if agency is not None:
        q = q.where(CertificateClaim.agency == agency)
    if status is not None:
        q = q.where(CertificateClaim.status == status)
    if scope is not None and not scope.city:
        q = q.where(CertificateClaim.agency.in_(sorted(scope.agencies)))
    return [(c, e) for c, e in (await session.execute(q)).all()]


async def claim_with_claimant(session: AsyncSession, claim_id: int) -> tuple[CertificateClaim, Employee] | None:
    """A submitted claim and its claimant (None for an unknown id or a draft)."""
    found = (await session.execute(select(CertificateClaim, Employee).join(
        Employee, Employee.id == CertificateClaim.employee_id).where(
        CertificateClaim.id == claim_id, CertificateClaim.submitted_at.is_not(None)))).first()
    return (found[0], found[1]) if found else None


async def reviewable(session: AsyncSession, reviewer: Employee | None, claim_id: int
                     ) -> tuple[CertificateClaim, Employee] | None:
    """The claim if ``reviewer`` is HR of its agency or a city admin; None otherwise (exists or not)."""
    scope = await scope_of(session, reviewer)
    found = await claim_with_claimant(session, claim_id)
    if found is None or not scope.is_hr or not scope.covers(found[0].agency):
        return None
    return found


async def recheck(session: AsyncSession, deps: CertDeps, row: CertificateClaim, claimant: Employee,
                  now: datetime) -> Outcome:
    """The rule check of a submitted claim as HR sees it now (another approval may have come since)."""
    scheme = deps.settings.scheme(row.scheme or "")
    past = await history(session, claimant, scheme.id, exclude=row.id)
    submitted = today_in_taipei(row.submitted_at or now)
    return check_claim(deps.rules, scheme, row.grade, row.dated or submitted, submitted, past)


DecideStatus = Literal["done", "already_decided", "not_found"]


@dataclass(frozen=True)
class Decision:
    """How a decision went: ``done`` (this officer decided), ``already_decided``, ``not_found`` (or not theirs)."""

    status: DecideStatus
    claim: CertificateClaim | None = None
    claimant: Employee | None = None
    told: bool = False


async def decide_claim(session: AsyncSession, deps: CertDeps, claim_id: int, reviewer: Employee, *,
                       approve: bool, reason: str | None, actor: str, now: datetime) -> Decision:
    """Approve or reject a pending claim as ``reviewer`` (HR of its agency or city admin); audited, final.

    The guarded UPDATE decides who wins when two officers decide at once; the loser gets
    ``already_decided``. The claimant is told through the outbox in the same transaction.
    """
    found = await reviewable(session, reviewer, claim_id)
    target = f"claim:{claim_id}"
    if found is None:
        await record(session, actor=actor, actor_employee_id=reviewer.id, action=DECIDE_ACTION, target=target,
                     allowed=False, now=now, detail="not_found_or_scope")
        return Decision("not_found")
    row, claimant = found
    if not await transitions.decide(session, claim_id, approve=approve, by_id=reviewer.id, reason=reason, now=now):
        return Decision("already_decided", row, claimant)
    await session.refresh(row)
    await record(session, actor=actor, actor_employee_id=reviewer.id, action=DECIDE_ACTION, target=target,
                 allowed=True, now=now, detail=("approved" if approve else f"rejected: {reason or ''}"))
    test = next((t for t in deps.settings.tests if t.id == row.test_id), None)
    notice = notices.decided(row, approved=approve, reason=reason, test_title=test.title if test else "",
                             test_title_en=test.title_en if test else "")
    told = await deps.notices.notify(session, [NoticeTo(claimant.id, notice, f"cert-decided:{row.id}")], now=now)
    return Decision("done", row, claimant, told=told > 0)


@dataclass(frozen=True)
class RewardRow:
    """One line of the rewards report (the 敘獎 paperwork)."""

    claim_id: int
    employee_no: str
    name: str
    agency: str
    unit: str
    scheme: str
    test_id: str
    level: str
    dated: date | None
    reward: str
    decided_at: datetime | None


async def rewards_report(session: AsyncSession, *, agency: str | None = None) -> list[RewardRow]:
    """Approved claims, by agency then employee number: the list HR needs for the reward paperwork."""
    rows = await list_claims(session, agency=agency, status="approved")
    out = [RewardRow(c.id, e.employee_no, e.name, c.agency, e.unit, c.scheme or "", c.test_id or "",
                     c.level_label or c.scores or "", c.dated, c.reward or "", c.decided_at) for c, e in rows]
    return sorted(out, key=lambda r: (r.agency, r.employee_no, r.claim_id))
