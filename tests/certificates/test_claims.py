"""Claims on both databases: two officers deciding at once, withdrawing, scope, retention, reminders, the audit."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.db.models.accounts import AdminAudit
from bot.db.models.certificates import CertificateClaim
from bot.db.models.core import ChannelAccount, OutboxMessage
from bot.services.accounts import find_employee, grant
from bot.services.certificates import (
    Answers,
    Photo,
    claim_window_reminders,
    decide_claim,
    hr_pending_digest,
    list_claims,
    purge_photos,
    start_claim,
    submit_claim,
    validate_photo,
    withdraw_claim,
)
from bot.services.certificates.transitions import InvalidTransition, submit
from tests.certificates import images
from tests.certificates.conftest import bind


def _photo(runtime: Runtime, size: tuple[int, int] = (1200, 850)) -> Photo:
    photo = validate_photo(images.encoded("PNG", size), runtime.app.certificates.settings.photos)
    assert isinstance(photo, Photo)
    return photo


async def _claim(runtime: Runtime, employee_no: str = "T0001", *, dated: date = date(2024, 1, 1),
                 level: str = "中級", submit_it: bool = True, photo: Photo | None = None) -> int:
    deps = runtime.app.certificates
    test = deps.settings.test("gept")
    async with runtime.sessions.begin() as s:
        employee = await find_employee(s, employee_no)
        assert employee is not None
        row = await start_claim(s, deps, employee, photo or _photo(runtime), plan_year=113, now=runtime.clock.now())
        answers = Answers(test, [lv.label for lv in test.levels].index(level), (), dated)
        if submit_it:
            outcome = await submit_claim(s, deps, row, employee, answers, runtime.clock.now())
            assert outcome.eligible, outcome
        else:
            row.scheme, row.test_id, row.dated = "english", "gept", dated
            row.window_end = dated + timedelta(days=91)
        return row.id


async def _grant(runtime: Runtime, employee_no: str, role: str, agency: str = "") -> None:
    async with runtime.sessions.begin() as s:
        employee = await find_employee(s, employee_no)
        assert employee is not None
        await grant(s, employee, role, agency, now=runtime.clock.now())


async def _decide(runtime: Runtime, claim_id: int, officer: str, approve: bool = True) -> str:
    async with runtime.sessions.begin() as s:
        reviewer = await find_employee(s, officer)
        assert reviewer is not None
        result = await decide_claim(s, runtime.app.certificates, claim_id, reviewer, approve=approve,
                                    reason=None if approve else "照片看不清楚", actor=f"test:{officer}",
                                    now=runtime.clock.now())
        return result.status


async def test_two_officers_deciding_at_once_one_wins(cert_app: Runtime) -> None:
    await _grant(cert_app, "T0003", "city_admin")
    await bind(cert_app, "line", "U-claimant", "T0001")
    for _ in range(5):
        claim_id = await _claim(cert_app)
        results = await asyncio.gather(_decide(cert_app, claim_id, "T0005", approve=True),
                                       _decide(cert_app, claim_id, "T0003", approve=False))
        assert sorted(results) == ["already_decided", "done"]
        async with cert_app.sessions() as s:
            row = await s.get(CertificateClaim, claim_id)
            assert row is not None
            winner = "approved" if results[0] == "done" else "rejected"
            assert row.status == winner
            told = (await s.execute(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.dedupe_key.like(f"cert-decided:{claim_id}:%")))).scalar_one()
            assert told == 1  # the claimant is told once, of the decision that stands
        if winner == "approved":
            break  # the next claim of the same level would be refused: enough rounds have raced
        cert_app.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]


async def test_only_hr_of_the_claimants_agency_or_a_city_admin_decides(cert_app: Runtime) -> None:
    claim_id = await _claim(cert_app)
    await _grant(cert_app, "T0003", "agency_hr", "桃園市政府環境保護局")
    assert await _decide(cert_app, claim_id, "T0003") == "not_found"  # another agency's HR
    assert await _decide(cert_app, claim_id, "T0002") == "not_found"  # not HR at all
    async with cert_app.sessions() as s:
        t3 = await find_employee(s, "T0003")
        assert t3 is not None
        from bot.services.accounts import scope_of
        assert await list_claims(s, scope=await scope_of(s, t3), status="pending") == []
        audit = (await s.execute(select(AdminAudit.allowed, AdminAudit.detail).where(
            AdminAudit.action == "certificates.decide"))).all()
    assert audit == [(False, "not_found_or_scope"), (False, "not_found_or_scope")]
    assert await _decide(cert_app, claim_id, "T0005") == "done"
    assert await _decide(cert_app, claim_id, "T0005", approve=False) == "already_decided"  # final


async def test_withdraw_while_pending_only(cert_app: Runtime) -> None:
    first = await _claim(cert_app)
    async with cert_app.sessions.begin() as s:
        me = await find_employee(s, "T0001")
        other = await find_employee(s, "T0002")
        assert me is not None and other is not None
        assert not await withdraw_claim(s, first, other, cert_app.clock.now())  # not theirs
        assert await withdraw_claim(s, first, me, cert_app.clock.now())
    second = await _claim(cert_app)  # the level is free again once withdrawn
    assert await _decide(cert_app, second, "T0005") == "done"
    async with cert_app.sessions.begin() as s:
        me = await find_employee(s, "T0001")
        assert me is not None
        assert not await withdraw_claim(s, second, me, cert_app.clock.now())  # decided: stays decided
        row = await s.get(CertificateClaim, second)
        assert row is not None and row.status == "approved"
        try:
            submit(row, scheme="english", test_id="gept", level_label="中級", scores=None, grade="B1", tier_level="B1",
                   tier_rank=2, reward="嘉獎2次", dated=date(2024, 1, 1), window_end=date(2024, 4, 1),
                   now=cert_app.clock.now())
        except InvalidTransition:
            pass
        else:
            raise AssertionError("approved → pending must not be allowed")


async def test_retention_deletes_the_file_and_keeps_the_claim(cert_app: Runtime, clock: FrozenClock) -> None:
    deps = cert_app.app.certificates
    shared = _photo(cert_app, (1000, 700))
    decided = await _claim(cert_app, photo=shared)
    await _decide(cert_app, decided, "T0005", approve=False)
    still_open = await _claim(cert_app, "T0002", photo=shared)  # the same photo, another open claim
    clock.advance(timedelta(days=deps.retention_days + 1))
    async with cert_app.sessions.begin() as s:
        assert await purge_photos(s, deps.store, days=deps.retention_days, now=clock.now()) == 0  # still needed
    async with cert_app.sessions.begin() as s:
        t2 = await find_employee(s, "T0002")
        assert t2 is not None
        await withdraw_claim(s, still_open, t2, clock.now())
    clock.advance(timedelta(days=deps.retention_days + 1))
    async with cert_app.sessions.begin() as s:
        assert await purge_photos(s, deps.store, days=deps.retention_days, now=clock.now()) == 1
    async with cert_app.sessions() as s:
        row = await s.get(CertificateClaim, decided)
        assert row is not None and row.status == "rejected" and row.photo_deleted_at is not None
        assert row.photo_sha256 == shared.sha256 and row.photo_size == shared.size
    assert deps.store.read(shared.sha256) is None


async def test_reminders_for_unsubmitted_drafts_and_hr_digest(cert_app: Runtime, clock: FrozenClock) -> None:
    settings = cert_app.app.certificates.settings
    draft = await _claim(cert_app, submit_it=False, dated=date(2024, 1, 1))  # window_end 2024-04-01 here
    pending = await _claim(cert_app, "T0002")
    async with cert_app.sessions() as s:
        row = await s.get(CertificateClaim, draft)
        assert row is not None and row.window_end is not None
        end = row.window_end
    days_before = max(settings.reminders.window_closing_days)
    # The day the window closes in N days: one reminder, once.
    clock.set(clock.now().replace(year=end.year, month=end.month, day=end.day) - timedelta(days=days_before))
    async with cert_app.sessions.begin() as s:
        first = await claim_window_reminders(s, settings, clock.now())
        again = await claim_window_reminders(s, settings, clock.now())
    assert [(n.employee_id, n.notice.values["days"]) for n in first] == [(first[0].employee_id, days_before)]
    assert first[0].notice.values["claim_id"] == draft and again == []
    async with cert_app.sessions.begin() as s:
        digest = await hr_pending_digest(s, settings, clock.now())
        t5 = await find_employee(s, "T0005")
        assert t5 is not None
    [only] = digest
    assert only.employee_id == t5.id and only.notice.values["count"] == 1
    assert pending  # submitted at the start, so older than the threshold by now
    # Both notices read in both languages through the registered renderers.
    from handlers.notices import renderer

    render = renderer(cert_app.app.texts, cert_app.app.catalog, cert_app.app.rules)
    for notice, zh, en in ((first[0].notice, f"剩 {days_before} 天", f"closes in {days_before} days"),
                           (only.notice, "1 件", "1 certificate claims")):
        assert zh in render(notice, "zh-TW")[0].text and en in render(notice, "en")[0].text


async def test_the_scheduler_tells_a_draft_s_owner_once_and_waits_out_quiet_hours(
        cert_app: Runtime, clock: FrozenClock, tmp_path: Path) -> None:
    from bot.scheduler import SchedulerRunner
    from tests.reminders.test_scheduler import lock_for

    employee_id = await bind(cert_app, "line", "U" + "c" * 32, "T0001")
    draft = await _claim(cert_app, submit_it=False, dated=date(2024, 1, 1))
    async with cert_app.sessions() as s:
        row = await s.get(CertificateClaim, draft)
        assert row is not None and row.window_end is not None
        end = row.window_end
    days_before = max(cert_app.app.certificates.settings.reminders.window_closing_days)
    day = end - timedelta(days=days_before)
    runner = SchedulerRunner(cert_app, clock=clock, lock=lock_for(cert_app, tmp_path))

    async def window_rows() -> list[int]:
        async with cert_app.sessions() as s:
            return list((await s.execute(select(OutboxMessage.account_id).where(
                OutboxMessage.kind == "certificates.window_closing"))).scalars())

    clock.set(datetime(day.year, day.month, day.day, 7, 30, tzinfo=TAIPEI))  # quiet hours: nothing yet
    await runner.tick()
    assert await window_rows() == []
    clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=TAIPEI))
    await runner.tick()
    await runner.tick()  # the next minute's sweep queues nothing new
    await runner.stop()
    rows = await window_rows()
    async with cert_app.sessions() as s:
        accounts = list((await s.execute(select(ChannelAccount.id).where(
            ChannelAccount.employee_id == employee_id))).scalars())
    assert len(rows) == 1 and rows[0] in accounts
