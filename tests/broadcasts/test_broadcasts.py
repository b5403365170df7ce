"""Announcements: audiences, scope, preview cost and quota, multicast exactly once, personalised push, report."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, update

from bot.bootstrap import Runtime
from bot.channels.line_client import LineClient
from bot.channels.line_insights import LineInsights
from bot.channels.line_sender import LineSender
from bot.db.models.broadcasts import BroadcastChunk
from bot.db.models.core import ChannelAccount, Employee
from bot.db.models.hours import LearningRecord
from bot.metrics import Metrics
from bot.services.accounts import Scope
from bot.services.broadcasts import (
    AudienceError,
    ChunkDeliverer,
    ComposeError,
    Content,
    Refused,
    build_report,
    cancel,
    make_plan,
    parse_audience,
    send,
)
from bot.services.notices import DeliveryWorker
from bot.services.notices.quiet import QuietHours
from tests.classes.conftest import add_people
from tests.line.conftest import no_sleep
from tests.line.fake_line import FakeLine

AGENCY = "測試局（範例）"
OTHER = "他機關（範例）"
DAYTIME = QuietHours()


async def people(app: Runtime, n: int, *, agency: str = AGENCY, prefix: str = "B", bound: int | None = None,
                 blocked: int = 0) -> list[int]:
    """``n`` employees; the first ``bound`` get a LINE account, the last ``blocked`` of those unreachable."""
    ids = await add_people(app, n, prefix=prefix, agency=agency)
    bound = n if bound is None else bound
    now = app.clock.now()
    rows = [{"channel": "line", "external_id": f"U{prefix}{i:05d}", "employee_id": emp,
             "lang": "en" if i % 3 == 0 else "zh-TW",
             "state": None, "state_data": {}, "reachable": i < bound - blocked, "bound_at": now, "created_at": now,
             "last_seen_at": now} for i, emp in enumerate(ids[:bound])]
    async with app.sessions.begin() as s:
        if rows:
            await s.execute(insert(ChannelAccount), rows)
    return ids


def test_bad_specs_say_one_sentence(app: Runtime) -> None:
    for spec in ("", "agency:", "colour:red", "gap:nothing", "category:boss", "all,,rank:薦任"):
        with pytest.raises(AudienceError) as err:
            parse_audience(spec, app.rules)
        assert "\n" not in str(err.value)
    assert [t.key for t in parse_audience("agency:人事處，gap:mandatory", app.rules).terms] == ["agency", "gap"]


def test_content_is_checked_before_anything_is_queued() -> None:
    for bad in (Content("x" * 5001), Content("hi {nick}"), Content("hi", link="http://example.org"),
                Content("  "), Content("a {", None)):
        with pytest.raises(ComposeError):
            bad.check()
    assert Content("{name} 您好").personalised and not Content("您好").personalised


async def test_agency_hr_only_inside_their_agency_and_no_counts_leak(app: Runtime) -> None:
    await people(app, 3, agency=OTHER, prefix="O")
    hr = Scope(agencies=frozenset({AGENCY}))
    async with app.sessions() as s:
        for spec in ("all", f"agency:{OTHER}", f"agency:{AGENCY},agency:{OTHER}"):
            with pytest.raises(Refused) as err:
                await make_plan(s, parse_audience(spec, app.rules), Content("hi"), scope=hr, rules=app.rules,
                                today=app.clock.now().date())
            assert not any(ch.isdigit() for ch in str(err.value))


async def test_gap_audience_preview_counts_unreachable_and_cost(app: Runtime) -> None:
    ids = await people(app, 6, bound=4, blocked=1)
    now = app.clock.now()
    async with app.sessions.begin() as s:  # the first employee has done every mandatory hour
        for bucket, hours in (("policy", 1), ("environment", 4), ("democracy", 5)):
            s.add(LearningRecord(employee_id=ids[0], plan_year=app.rules.year, occurred_on=now.date(), title="t",
                                 hours=Decimal(hours), bucket=bucket, source="portal", natural_key=f"k{bucket}",
                                 credited=True, created_at=now))
    fake = await FakeLine(quota_limit=100, quota_used=98).start()
    client = LineClient("t", fake.url)
    try:
        async with app.sessions() as s:
            plan = await make_plan(s, parse_audience(f"agency:{AGENCY},gap:mandatory", app.rules),
                                   Content("{name}：請完成必修時數"), scope=Scope(agencies=frozenset({AGENCY})),
                                   rules=app.rules, today=now.date(), insights=LineInsights(client))
    finally:
        await client.close()
        await fake.stop()
    assert len(plan.members) == 5
    assert plan.recipients == 2 and plan.cost == 2  # 4 bound, 1 of them done, 1 blocked
    assert Counter(r for _, r in plan.unreachable) == {"not_bound": 2, "unfollowed": 1}
    assert plan.quota is not None and plan.quota.remaining == 2 and not plan.over_quota
    assert plan.sample() == "測試員2（範例）：請完成必修時數"


async def _send(app: Runtime, spec: str, content: Content, **kw: object):  # type: ignore[no-untyped-def]
    async with app.sessions.begin() as s:
        plan = await make_plan(s, parse_audience(spec, app.rules), content, scope=Scope(city=True),
                               rules=app.rules, today=app.clock.now().date(), insights=kw.pop("insights", None))  # type: ignore[arg-type]
        return await send(s, plan, actor="cli:T", actor_employee_id=None, now=app.clock.now(),
                          notifier=app.app.deps.notices, quiet=DAYTIME, **kw)  # type: ignore[arg-type]


async def test_over_quota_is_refused_unless_forced(app: Runtime) -> None:
    await people(app, 3)
    fake = await FakeLine(quota_limit=10, quota_used=9).start()
    client = LineClient("t", fake.url)
    try:
        with pytest.raises(Refused, match="--force"):
            await _send(app, f"agency:{AGENCY}", Content("hi"), insights=LineInsights(client))
        sent = await _send(app, f"agency:{AGENCY}", Content("hi"), insights=LineInsights(client), force=True)
    finally:
        await client.close()
        await fake.stop()
    assert sent.chunks == 1  # no English text: everyone reads the zh-TW one


async def test_quiet_hours_refuse_a_time_and_move_now(app: Runtime) -> None:
    await people(app, 2)
    night = app.clock.now().replace(hour=14)  # 22:00 in Taipei
    with pytest.raises(Refused, match="quiet hours"):
        await _send(app, f"agency:{AGENCY}", Content("hi"), at=night)
    app.clock.set(night)  # type: ignore[attr-defined]
    sent = await _send(app, f"agency:{AGENCY}", Content("hi"))
    assert sent.moved and sent.broadcast.send_at == night.replace(hour=0) + timedelta(days=1)


async def test_identical_text_multicasts_exactly_once_through_failures_and_a_crash(app: Runtime) -> None:
    await people(app, 1200)
    fake = await FakeLine().start()
    client = LineClient("t", fake.url)
    sender = LineSender(client, Metrics(), sleep=no_sleep)
    try:
        sent = await _send(app, f"agency:{AGENCY}", Content("新班開放報名", "New class open"))
        assert sent.chunks == 3  # 800 zh-TW (2 chunks), 400 English (1): ≤ 500 ids each
        render = app.app.deps.notices.render
        # a worker claims a chunk, LINE accepts its call, and the worker dies (kill -9) before recording it
        crashed = ChunkDeliverer(app.sessions, app.clock, {"line": sender}, render, batch_size=1)
        [chunk_id] = await crashed.claim()
        async with app.sessions() as s:
            chunk = await s.get(BroadcastChunk, chunk_id)
            assert chunk is not None
        replies = render(Content("新班開放報名").notice(), chunk.lang)
        await sender.deliver_many([r[1] for r in chunk.recipients], replies, chunk.retry_key, sent.broadcast.unit)
        fake.fail("multicast", 500, 429, accept_first=True)  # answers lost after LINE accepted the call
        deliverer = ChunkDeliverer(app.sessions, app.clock, {"line": sender}, render, base_backoff=timedelta(0))
        worker = DeliveryWorker(app.sessions, app.clock, {"line": sender}, batches=[deliverer])
        await worker.run_until_idle()
        fake.fail("multicast", 429, 500)
        for _ in range(5):
            await worker.run_until_idle()
            async with app.sessions.begin() as s:  # the dead worker's lease runs out
                await s.execute(update(BroadcastChunk).where(BroadcastChunk.status == "sending")
                                .values(claimed_at=app.clock.now() - timedelta(hours=1)))
    finally:
        await client.close()
        await fake.stop()
    ok = [r for r in fake.sent("multicast")]
    delivered = Counter(uid for to in fake.multicast_accepted for uid in to)
    assert len(delivered) == 1200 and set(delivered.values()) == {1}
    assert all(len(r.json["to"]) <= 500 and r.json["customAggregationUnits"] == [sent.broadcast.unit] for r in ok)
    async with app.sessions() as s:
        report = await build_report(s, sent.broadcast)
    assert report.totals["sent"] == 1200 and report.by_agency[AGENCY]["sent"] == 1200


async def test_personalised_goes_by_push_once_and_the_report_counts_it(app: Runtime) -> None:
    await people(app, 5, bound=4, blocked=1)
    fake = await FakeLine(unit_stats={}).start()
    client = LineClient("t", fake.url)
    sender = LineSender(client, Metrics(), sleep=no_sleep)
    try:
        sent = await _send(app, f"agency:{AGENCY}", Content("{name} 您好", "Hello {name}"))
        fake.unit_stats[sent.broadcast.unit] = {"opens": 2, "clicks": 1}
        fake.fail("push", 500)
        worker = DeliveryWorker(app.sessions, app.clock, {"line": sender}, base_backoff=timedelta(0))
        await worker.run_until_idle()
        insights = LineInsights(client)
        async with app.sessions() as s:
            report = await build_report(s, sent.broadcast, insights=insights)
        await insights.close()
    finally:
        await client.close()
        await fake.stop()
    pushed = Counter(r.json["to"] for r in fake.sent("push"))
    assert len(pushed) == 3 and set(pushed.values()) == {1}
    texts = sorted(m["text"] for r in fake.sent("push") for m in r.json["messages"])
    assert any("Hello 測試員" in t for t in texts) and any("測試員2（範例） 您好" in t for t in texts)
    assert report.totals == {"sent": 3, "skipped": 2} and report.stats == {"opens": 2, "clicks": 1}
    assert report.reasons == {"not_bound": 1, "unfollowed": 1}


async def test_cancel_a_scheduled_announcement(app: Runtime) -> None:
    await people(app, 3)
    later = app.clock.now() + timedelta(days=1)
    sent = await _send(app, f"agency:{AGENCY}", Content("hi"), at=later)
    async with app.sessions.begin() as s:
        with pytest.raises(Refused):
            await cancel(s, sent.broadcast.id, scope=Scope(agencies=frozenset({OTHER})), rules=app.rules,
                         actor="x", actor_employee_id=None, now=app.clock.now())
    async with app.sessions.begin() as s:
        await cancel(s, sent.broadcast.id, scope=Scope(city=True), rules=app.rules, actor="x",
                     actor_employee_id=None, now=app.clock.now())
    async with app.sessions() as s:
        statuses = (await s.execute(select(BroadcastChunk.status, func.count()).group_by(BroadcastChunk.status))).all()
        assert dict(statuses) == {"cancelled": 1}
        assert (await s.execute(select(func.count()).select_from(Employee))).scalar_one() > 0


@pytest.mark.parametrize("text", ["全體同仁：問卷結果已公布", "{name}：問卷結果已公布"])
async def test_a_fifth_of_calls_failing_still_reaches_everyone_once(app: Runtime, text: str) -> None:
    await people(app, 1100 if "{" not in text else 60)
    fake = await FakeLine(fail_rate=0.2).start()
    client = LineClient("t", fake.url)
    sender = LineSender(client, Metrics(), sleep=no_sleep)
    try:
        sent = await _send(app, f"agency:{AGENCY}", Content(text))
        chunks = ChunkDeliverer(app.sessions, app.clock, {"line": sender}, app.app.deps.notices.render,
                                base_backoff=timedelta(0), max_attempts=50)
        worker = DeliveryWorker(app.sessions, app.clock, {"line": sender}, batches=[chunks],
                                base_backoff=timedelta(0), max_attempts=50)
        await worker.run_until_idle()
        async with app.sessions() as s:
            report = await build_report(s, sent.broadcast)
    finally:
        await client.close()
        await fake.stop()
    if "{" in text:  # a push whose answer was lost was delivered all the same: count what LINE accepted
        received = Counter(fake.push_accepted)
        assert len(received) == 60 and set(received.values()) == {1}
        assert report.totals["sent"] == 60
    else:
        received = Counter(u for to in fake.multicast_accepted for u in to)
        assert len(received) == 1100 and set(received.values()) == {1}
        assert report.totals["sent"] == 1100
    assert report.totals["failed"] == 0


async def test_file_class_waitlist_and_took_terms(app: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    from bot.db.models.classes import Enrollment, TrainingClass
    from bot.services.broadcasts.audience import resolve

    ids = await people(app, 4)
    (tmp_path / "list.csv").write_text("員工編號\nB0001\nb0003\n", encoding="utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["employee_no"], ["B0002"], ["B0004"]):
        sheet.append(row)
    book.save(tmp_path / "list.xlsx")
    now = app.clock.now()
    async with app.sessions.begin() as s:
        cls = (await s.execute(select(TrainingClass).order_by(TrainingClass.id))).scalars().first()
        assert cls is not None
        s.add_all([Enrollment(class_id=cls.id, employee_id=ids[0], status="enrolled", seq=900),
                   Enrollment(class_id=cls.id, employee_id=ids[1], status="waitlisted", seq=901),
                   LearningRecord(employee_id=ids[2], plan_year=app.rules.year, occurred_on=now.date(), title="t",
                                  course_code="A1-1", hours=Decimal(2), bucket="other", source="portal",
                                  natural_key="took-1", credited=True, created_at=now)])
    found = {}
    async with app.sessions() as s:
        for spec in ("file:" + str(tmp_path / "list.csv"), "file:" + str(tmp_path / "list.xlsx"),
                     f"agency:{AGENCY},class:{cls.code}", f"agency:{AGENCY},waitlist:{cls.id}",
                     f"agency:{AGENCY},took:A1-1"):
            members = await resolve(s, parse_audience(spec, app.rules), rules=app.rules, today=now.date())
            found[spec.split(":")[0] if "file" in spec else spec.split(",")[1].split(":")[0]] = \
                sorted(m.employee_no for m in members)
    assert found["file"] == ["B0002", "B0004"]  # the XLSX (the CSV's B0001 and B0003 checked below)
    assert found["class"] == ["B0001"] and found["waitlist"] == ["B0002"] and found["took"] == ["B0003"]
    async with app.sessions() as s:
        from_csv = await resolve(s, parse_audience("file:" + str(tmp_path / "list.csv"), app.rules), rules=app.rules,
                                 today=now.date())
    assert sorted(m.employee_no for m in from_csv) == ["B0001", "B0003"]
    (tmp_path / "bad.csv").write_text("no\nB0001\nA123456789\n", encoding="utf-8")
    async with app.sessions() as s:
        with pytest.raises(AudienceError, match="line 3"):
            await resolve(s, parse_audience("file:" + str(tmp_path / "bad.csv"), app.rules), rules=app.rules,
                          today=now.date())
