"""Reminders as a trainee gets them (both databases): each kind once, opt-out, the re-check, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, event, select, update

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.db.channel_accounts import get_or_create_account
from bot.db.models.classes import Enrollment
from bot.db.models.core import ChannelAccount, OutboxMessage
from bot.db.models.hours import LearningRecord
from bot.db.models.reminders import ReminderWatermark
from bot.services.notices import DeliveryWorker, Recipient
from bot.services.reminders import Reminders, set_opt_out
from tests.classes.conftest import add_classes, add_people, class_id, enroll_as, spec
from tests.line import webhooks as wh


def taipei(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TAIPEI)


def reminders(app: Runtime) -> Reminders:
    assert app.app.reminders is not None
    return app.app.reminders


async def sweep(app: Runtime, at: datetime) -> dict[str, int]:
    async with app.sessions.begin() as s:
        result = await reminders(app).sweep(s, at)
    return {**result.queued, **{f"skipped {k}": v for k, v in result.skipped.items()}}


async def rows(app: Runtime, kind: str = "reminders.") -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list((await s.execute(select(OutboxMessage).where(OutboxMessage.kind.startswith(kind))
                                     .order_by(OutboxMessage.id))).scalars())


async def trainee_on_line(app: Runtime, employee_id: int, name: str, lang: str = "zh-TW") -> None:
    async with app.sessions.begin() as s:
        account = await get_or_create_account(s, "line", wh.user_id(name), lang=lang, now=app.clock.now())
        account.employee_id = employee_id


class Sent:
    """A sender that keeps what it delivered."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def deliver(self, recipient: Recipient, replies: list[object], retry_key: str) -> None:
        self.texts.extend(getattr(r, "text", "") for r in replies)


def worker(app: Runtime, clock: FrozenClock, sender: Sent) -> DeliveryWorker:
    r = reminders(app)
    return DeliveryWorker(app.sessions, clock, {"line": sender}, checks=r.checks(), quiet=r.ctx.quiet)


async def a_class_with_one_trainee(app: Runtime, lang: str = "zh-TW") -> tuple[int, int]:
    await add_classes(app, spec("R-1", meetings=(("2024-03-20", "09:00", "12:00"),),
                                materials_url="https://example.org/materials.pdf"))
    cid = await class_id(app, "R-1")
    (person,) = await add_people(app, 1, prefix="R")
    await trainee_on_line(app, person, "r1", lang)
    assert (await enroll_as(app, cid, person)).outcome == "enrolled"
    return cid, person


async def test_a_trainee_hears_about_a_meeting_the_evening_before_and_that_morning_each_once(
        app: Runtime, clock: FrozenClock) -> None:
    await a_class_with_one_trainee(app)
    assert await sweep(app, taipei("2024-03-19T17:59")) == {}
    assert await sweep(app, taipei("2024-03-19T18:00")) == {"reminders.class_evening": 1}
    assert await sweep(app, taipei("2024-03-19T18:00")) == {}  # the same instant swept again
    assert await sweep(app, taipei("2024-03-20T08:00")) == {"reminders.class_morning": 1}
    evening, morning = await rows(app)
    text = evening.payload[0]["text"]
    for needed in ("明天上課", "113年3月20日", "09:00", "測試教室", "materials.pdf", "公假", "職務代理人", "1/3"):
        assert needed in text, needed
    # registration closed on 3/10, so the seat can no longer be cancelled from the reminder
    assert "cx|" not in str(evening.payload)
    assert "今天上課" in morning.payload[0]["text"]


async def test_the_reminder_offers_to_cancel_the_seat_while_cancelling_is_still_allowed(
        app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("R-2", closes="2024-03-19 20:00", meetings=(("2024-03-20", "14:00", "17:00"),)))
    cid = await class_id(app, "R-2")
    (person,) = await add_people(app, 1, prefix="R")
    await trainee_on_line(app, person, "r2", "en")
    await enroll_as(app, cid, person)
    await sweep(app, taipei("2024-03-19T18:00"))
    (row,) = await rows(app)
    assert "Class tomorrow" in row.payload[0]["text"]
    async with app.sessions() as s:
        enrollment_id = (await s.execute(select(Enrollment.id).where(Enrollment.class_id == cid))).scalar_one()
    assert f"cx|{enrollment_id}" in str(row.payload)


async def test_someone_who_switched_class_reminders_off_gets_none(app: Runtime, clock: FrozenClock) -> None:
    _cid, person = await a_class_with_one_trainee(app)
    async with app.sessions.begin() as s:
        await set_opt_out(s, person, "class", off=True, now=clock.now())
    assert await sweep(app, taipei("2024-03-19T18:00")) == {}


async def test_a_seat_cancelled_after_the_reminder_was_queued_is_not_reminded(app: Runtime, clock: FrozenClock) -> None:
    cid, _person = await a_class_with_one_trainee(app)
    await sweep(app, taipei("2024-03-19T18:00"))
    async with app.sessions.begin() as s:
        await s.execute(update(Enrollment).where(Enrollment.class_id == cid).values(status="cancelled",
                                                                                    cancel_reason="self"))
    clock.set(taipei("2024-03-19T18:01"))
    sent = Sent()
    assert await worker(app, clock, sent).run_until_idle() == {"skipped": 1}
    assert sent.texts == []
    (row,) = await rows(app)
    assert (row.status, row.last_error) == ("skipped", "seat cancelled")


async def test_a_reminder_coming_due_at_night_waits_for_the_morning(app: Runtime, clock: FrozenClock) -> None:
    await a_class_with_one_trainee(app)
    await sweep(app, taipei("2024-03-19T18:00"))
    clock.set(taipei("2024-03-19T22:00"))  # the worker was down until the evening
    sent = Sent()
    assert await worker(app, clock, sent).run_until_idle() == {"deferred": 1}
    (row,) = await rows(app)
    assert (row.status, row.next_attempt_at) == ("pending", taipei("2024-03-20T08:00"))
    clock.set(taipei("2024-03-20T08:00"))
    assert await worker(app, clock, sent).run_until_idle() == {"sent": 1}
    assert len(sent.texts) == 1


async def test_a_reminder_whose_meeting_began_while_nothing_ran_is_recorded_skipped(
        app: Runtime, clock: FrozenClock) -> None:
    await a_class_with_one_trainee(app)
    await sweep(app, taipei("2024-03-19T12:00"))  # the last sweep before everything went down
    counts = await sweep(app, taipei("2024-03-20T10:00"))  # back up after the meeting began
    assert counts == {"skipped reminders.class_evening": 1, "skipped reminders.class_morning": 1}
    assert {r.last_error for r in await rows(app)} == {"moment passed while the scheduler was not running"}


async def test_a_waitlisted_trainee_hears_the_day_before_registration_closes(app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("R-3", capacity=1, closes="2024-03-10 17:00"))
    cid = await class_id(app, "R-3")
    seated, waiting = await add_people(app, 2, prefix="R")
    await trainee_on_line(app, seated, "seated")
    await trainee_on_line(app, waiting, "waiting")
    await enroll_as(app, cid, seated)
    assert (await enroll_as(app, cid, waiting)).outcome == "waitlisted"
    assert await sweep(app, taipei("2024-03-09T10:00")) == {"reminders.waitlist_closing": 1}
    (row,) = await rows(app)
    assert "明天截止報名" in row.payload[0]["text"]
    assert row.dedupe_key.endswith(f":{waiting}:line")


async def record(app: Runtime, employee_id: int, bucket: str, hours: str, key: str) -> None:
    async with app.sessions.begin() as s:
        s.add(LearningRecord(employee_id=employee_id, plan_year=113, occurred_on=date(2024, 5, 1), title="t",
                             hours=Decimal(hours), bucket=bucket, source="hr", natural_key=key, credited=True))


async def test_deadline_reminders_go_only_to_people_with_a_gap_and_say_what_is_missing(
        app: Runtime, clock: FrozenClock) -> None:
    behind, done = await add_people(app, 2, prefix="D")
    await trainee_on_line(app, behind, "behind")
    await trainee_on_line(app, done, "done")
    await record(app, behind, "environment", "4", "b-env")
    for bucket, hours in (("policy", "1"), ("environment", "4"), ("democracy", "5")):
        await record(app, done, bucket, hours, f"d-{bucket}")
    await sweep(app, taipei("2024-09-23T09:00"))
    (row,) = [r for r in await rows(app) if r.dedupe_key.endswith((f":{behind}:line", f":{done}:line"))]
    assert row.dedupe_key == f"reminders.deadline:mandatory_hours.7:{behind}:line"
    text = row.payload[0]["text"]
    assert "7 天" in text and "民主治理價值：5 小時" in text and "樂桃e學園" in text
    assert "環境教育" not in text  # that bucket is complete


async def test_hours_completed_after_the_deadline_reminder_was_queued_stop_it(app: Runtime, clock: FrozenClock) -> None:
    (behind,) = await add_people(app, 1, prefix="D")
    await trainee_on_line(app, behind, "late")
    await sweep(app, taipei("2024-09-23T09:00"))
    for bucket, hours in (("policy", "1"), ("environment", "4"), ("democracy", "5")):
        await record(app, behind, bucket, hours, f"l-{bucket}")
    clock.set(taipei("2024-09-23T09:05"))
    sent = Sent()
    await worker(app, clock, sent).run_until_idle()
    mine = [r for r in await rows(app) if r.dedupe_key.endswith(f":{behind}:line")]
    assert [(r.status, r.last_error) for r in mine] == [("skipped", "hours completed")]


async def test_a_second_scheduler_sweeping_the_same_moment_queues_nothing_more(
        app: Runtime, clock: FrozenClock) -> None:
    await a_class_with_one_trainee(app)
    at = taipei("2024-03-19T18:00")
    async with app.sessions.begin() as s:
        first = await reminders(app).sweep(s, at)
    async with app.sessions.begin() as s:  # as if another process had not seen the first's watermark
        second = await reminders(app).sweep(s, at, since=at - timedelta(hours=1))
    assert (first.total, second.total) == (1, 0)
    assert len(await rows(app)) == 1


async def test_an_evening_reminder_missed_while_everything_was_down_still_goes_the_next_morning(
        app: Runtime, clock: FrozenClock) -> None:
    await a_class_with_one_trainee(app)
    await sweep(app, taipei("2024-03-19T12:00"))  # last sweep before the stop
    assert await sweep(app, taipei("2024-03-20T07:00")) == {"reminders.class_evening": 1}  # back before the meeting
    (row,) = await rows(app)
    assert row.status == "pending"
    assert row.next_attempt_at == taipei("2024-03-20T08:00")  # it came up in quiet hours: held until 08:00


async def test_nothing_is_sent_to_an_account_that_blocked_the_bot(app: Runtime, clock: FrozenClock) -> None:
    _cid, person = await a_class_with_one_trainee(app)
    async with app.sessions.begin() as s:
        await s.execute(update(ChannelAccount).where(ChannelAccount.employee_id == person).values(reachable=False))
    assert await sweep(app, taipei("2024-03-19T18:00")) == {"skipped reminders.class_evening": 1}
    (row,) = await rows(app)
    assert (row.status, row.last_error) == ("skipped", "unreachable")


async def deadline_batch(app: Runtime, clock: FrozenClock, n: int, prefix: str) -> tuple[dict[str, int], int]:
    """``n`` people behind, reminded at 9/23, then a third complete their hours and a third opt out.

    The worker delivers; returns what it counted and how many SQL statements that took.
    """
    people = await add_people(app, n, prefix=prefix)
    for p in people:
        await trainee_on_line(app, p, f"{prefix}{p}")
    await sweep(app, taipei("2024-09-23T09:00"))
    for p in people[0::3]:
        for bucket, hours in (("policy", "1"), ("environment", "4"), ("democracy", "5")):
            await record(app, p, bucket, hours, f"{prefix}{p}-{bucket}")
    async with app.sessions.begin() as s:
        for p in people[1::3]:
            await set_opt_out(s, p, "deadline", off=True, now=clock.now())
    clock.set(taipei("2024-09-23T09:05"))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", seen)
    try:
        counted = await worker(app, clock, Sent()).run_until_idle()
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", seen)
    mine = {int(r.dedupe_key.split(":")[-2]): (r.status, r.last_error) for r in await rows(app)
            if r.dedupe_key.split(":")[-2] in {str(p) for p in people}}
    assert mine == {**{p: ("skipped", "hours completed") for p in people[0::3]},
                    **{p: ("skipped", "opted out") for p in people[1::3]},
                    **{p: ("sent", None) for p in people[2::3]}}
    return counted, len(statements)


async def test_a_batch_is_checked_and_recorded_with_the_same_few_statements_whatever_its_size(
        app: Runtime, clock: FrozenClock) -> None:
    small, small_statements = await deadline_batch(app, clock, 6, "S")
    assert small == {"skipped": 4, "sent": 2}
    clock.set(taipei("2024-09-23T08:00"))
    async with app.sessions.begin() as s:  # the next sweep at 9:00 must not be taken as already done
        await s.execute(delete(ReminderWatermark))
    large, large_statements = await deadline_batch(app, clock, 30, "L")
    assert large == {"skipped": 20, "sent": 10}
    # claim, load, opt-outs, hours, one UPDATE per kind of outcome: nothing per row
    assert large_statements == small_statements
