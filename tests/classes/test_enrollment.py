"""Enroll, waitlist, cancel, promote, HR's class changes and substitutes (both databases)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.db.models.classes import Enrollment
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.services.accounts import Scope, bind_console_account
from bot.services.classes import CLI_SCOPE, cancel, substitute
from tests.classes.conftest import (
    MORNING,
    TEST_AGENCY,
    add_classes,
    add_people,
    class_id,
    deps,
    employee,
    enroll_as,
    outbox_texts,
    seats,
    spec,
)

CLOSES = datetime(2024, 3, 10, 17, 0, tzinfo=TAIPEI)


async def cancel_as(app: Runtime, enrollment_id: int, employee_id: int) -> object:
    async with app.sessions.begin() as s:
        return await cancel(s, enrollment_id, employee_id, now=app.clock.now(), deps=deps(app))


async def bind(app: Runtime, *employee_ids: int) -> None:
    """Give employees a console chat account, so notices to them have a recipient."""
    async with app.sessions.begin() as s:
        for eid in employee_ids:
            no = (await s.execute(select(Employee.employee_no).where(Employee.id == eid))).scalar_one()
            await bind_console_account(s, no, lang="zh-TW", now=app.clock.now())


async def test_seats_then_waitlist_in_order_and_no_one_twice(app: Runtime) -> None:
    await add_classes(app, spec("T-SEAT", capacity=2))
    cid = await class_id(app, "T-SEAT")
    a, b, c, d = await add_people(app, 4)
    assert (await enroll_as(app, cid, a)).outcome == "enrolled"
    assert (await enroll_as(app, cid, b)).outcome == "enrolled"
    third = await enroll_as(app, cid, c)
    fourth = await enroll_as(app, cid, d)
    assert (third.outcome, third.position, fourth.position) == ("waitlisted", 1, 2)
    again = await enroll_as(app, cid, c)
    assert again.outcome == "refused" and again.refusal is not None
    assert (again.refusal.key, again.refusal.values) == ("classes.refuse.already_waitlisted", {"position": "1"})
    assert (await enroll_as(app, cid, a)).refusal.key == "classes.refuse.already_enrolled"  # type: ignore[union-attr]
    state = await seats(app, cid)
    assert (state.taken, state.enrolled, state.waitlisted, state.rows_per_person) == (2, [a, b], [c, d], 1)


async def test_cancel_promotes_the_first_eligible_and_tells_them(app: Runtime) -> None:
    await add_classes(app, spec("T-PROMO", capacity=1))
    cid = await class_id(app, "T-PROMO")
    holder, gone, next_one, last = await add_people(app, 4)
    await bind(app, gone, next_one)
    first = await enroll_as(app, cid, holder)
    for person in (gone, next_one, last):
        await enroll_as(app, cid, person)
    async with app.sessions.begin() as s:  # the first in the queue left the city meanwhile
        (await s.execute(select(Employee).where(Employee.id == gone))).scalar_one().active = False
    result = await cancel_as(app, first.enrollment_id or 0, holder)
    assert result.ok and result.was == "enrolled" and len(result.promoted) == 1  # type: ignore[attr-defined]
    state = await seats(app, cid)
    assert (state.taken, state.enrolled, state.waitlisted) == (1, [next_one], [gone, last])
    notices = await outbox_texts(app, "class-promoted:")
    assert len(notices) == 1 and notices[0][0].endswith(":console")
    assert notices[0][1].startswith("好消息！您候補的班期有名額了") and "零基礎 Python 入門班" in notices[0][1]
    assert "公假" in notices[0][1] and "職務代理人" in notices[0][1]


async def test_cancel_deadline_and_re_enrolling_goes_to_the_back(app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("T-BACK", capacity=1))
    cid = await class_id(app, "T-BACK")
    a, b = await add_people(app, 2)
    mine = await enroll_as(app, cid, a)
    await enroll_as(app, cid, b)
    assert (await cancel_as(app, mine.enrollment_id or 0, a)).ok  # type: ignore[attr-defined]
    again = await enroll_as(app, cid, a)                         # the same row, a new place at the back
    assert (again.outcome, again.position, again.enrollment_id) == ("waitlisted", 1, mine.enrollment_id)
    assert (await seats(app, cid)).enrolled == [b]
    theirs = (await enroll_as(app, cid, b)).enrollment_id
    clock.set(CLOSES)
    late = await cancel_as(app, theirs or 0, b)
    assert not late.ok and late.refusal.key == "classes.refuse.cancel_deadline"  # type: ignore[attr-defined]
    waiting = await cancel_as(app, again.enrollment_id or 0, a)     # leaving the waitlist is still fine
    assert waiting.ok and waiting.was == "waitlisted"  # type: ignore[attr-defined]
    assert (await cancel_as(app, theirs or 0, a)).refusal.key == "classes.refuse.gone"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("offset", "outcome"), [(-1, "enrolled"), (0, "refused"), (1, "refused")])
async def test_enrolling_at_the_second_the_window_closes(app: Runtime, clock: FrozenClock, offset: int,
                                                         outcome: str) -> None:
    await add_classes(app, spec("T-WIN"))
    cid = await class_id(app, "T-WIN")
    (person,) = await add_people(app, 1)
    clock.set(CLOSES + timedelta(seconds=offset))
    result = await enroll_as(app, cid, person)
    assert result.outcome == outcome
    if outcome == "refused":
        assert result.refusal is not None and result.refusal.key == "classes.refuse.window_closed"
        assert result.refusal.values == {"closes": "113年3月10日 17:00"}


async def test_window_not_open_yet(app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("T-EARLY", opens="2024-03-02 09:00"))
    cid = await class_id(app, "T-EARLY")
    (person,) = await add_people(app, 1)
    early = await enroll_as(app, cid, person)
    assert early.refusal is not None and early.refusal.values == {"opens": "113年3月2日 09:00"}
    clock.set(datetime(2024, 3, 2, 9, 0, tzinfo=TAIPEI))
    assert (await enroll_as(app, cid, person)).outcome == "enrolled"


async def test_refusals_name_eligibility_clash_and_cap(app: Runtime) -> None:
    await add_classes(
        app, spec("T-SENIOR", eligibility={"ranks": ["簡任"]}),
        spec("T-AM", meetings=(("2024-03-21", "09:00", "12:00"),)),
        spec("T-OVERLAP", course="A2-6-1", meetings=(("2024-03-21", "11:00", "13:00"),)),
        spec("T-AFTER", course="A2-6-1", meetings=(("2024-03-21", "12:00", "13:00"),)),
        spec("T-Q2", course="A3-3", closes="2024-03-31", meetings=(("2024-04-10", "09:00", "12:00"),)))
    (person,) = await add_people(app, 1, rank="委任")
    senior = await enroll_as(app, await class_id(app, "T-SENIOR"), person)
    assert senior.refusal is not None and senior.refusal.key == "classes.refuse.rank"
    assert senior.refusal.values == {"ranks": "簡任", "rank": "委任"}
    assert (await enroll_as(app, await class_id(app, "T-AM"), person)).outcome == "enrolled"
    clash = await enroll_as(app, await class_id(app, "T-OVERLAP"), person)
    assert clash.refusal is not None and clash.refusal.key == "classes.refuse.clash"
    assert clash.refusal.values["when"] == "113年3月21日（四）"
    capped = deps(app, cap=1, period="quarter")
    cap = await enroll_as(app, await class_id(app, "T-AFTER"), person, d=capped)  # touching, not overlapping
    assert cap.refusal is not None and cap.refusal.key == "classes.refuse.cap"
    assert cap.refusal.values == {"count": "1", "cap": "1", "period": "本季"}
    assert (await enroll_as(app, await class_id(app, "T-AFTER"), person)).outcome == "enrolled"  # no cap
    assert (await enroll_as(app, await class_id(app, "T-Q2"), person, d=deps(app, cap=1))).outcome == "enrolled"


async def test_hr_cancels_a_class_everyone_is_told_and_nobody_stays_enrolled(app: Runtime) -> None:
    await add_classes(app, spec("T-CXL", capacity=2))
    cid = await class_id(app, "T-CXL")
    people = await add_people(app, 3)
    await bind(app, *people)
    for p in people:
        await enroll_as(app, cid, p)
    report = await add_classes(app, spec("T-CXL", capacity=2, status="cancelled"))
    assert report.updated == ["T-CXL"] and "3 enrolled or waitlisted people were cancelled and told" in report.notes[0]
    state = await seats(app, cid)
    assert (state.taken, state.enrolled, state.waitlisted) == (0, [], [])
    notices = await outbox_texts(app, "class-cancelled:")
    assert len(notices) == 3 and all(text.startswith("很抱歉，以下班期已經取消") for _k, text in notices)
    late = await enroll_as(app, cid, people[0])
    assert late.refusal is not None and late.refusal.key == "classes.refuse.cancelled"
    again = await add_classes(app, spec("T-CXL", capacity=2, status="cancelled"))
    assert again.unchanged == ["T-CXL"] and len(await outbox_texts(app, "class-cancelled:")) == 3


async def test_a_new_time_or_place_is_told_to_everyone_still_in_the_class(app: Runtime) -> None:
    await add_classes(app, spec("T-MOVE", capacity=2))
    cid = await class_id(app, "T-MOVE")
    stays, leaves, waits, other = await add_people(app, 4)
    await bind(app, stays, leaves, waits, other)
    first = await enroll_as(app, cid, leaves)
    for person in (stays, waits):
        await enroll_as(app, cid, person)
    await cancel_as(app, first.enrollment_id or 0, leaves)  # gone before the change: not told
    later = (("2024-03-27", "13:30", "16:30"),)
    report = await add_classes(app, spec("T-MOVE", capacity=2, meetings=later))
    assert report.updated == ["T-MOVE"]
    assert "T-MOVE: schedule changed; 2 enrolled or waitlisted people were told" in report.notes
    notices = await outbox_texts(app, "class-changed:")
    assert len(notices) == 2 and all(text.startswith("您報名（或候補）的班期上課時間有異動") for _k, text in notices)
    assert all("13:30" in text and "09:00" not in text for _k, text in notices)  # the new time, not the old
    again = await add_classes(app, spec("T-MOVE", capacity=2, meetings=later))  # the same file once more
    assert again.unchanged == ["T-MOVE"] and len(await outbox_texts(app, "class-changed:")) == 2
    await add_classes(app, spec("T-MOVE", capacity=2, meetings=later, place="新教室（範例）"))
    moved = [text for _k, text in await outbox_texts(app, "class-changed:") if "地點或連結有異動" in text]
    assert len(moved) == 2 and all("新教室（範例）" in text for text in moved)
    await add_classes(app, spec("T-MOVE", capacity=2, meetings=MORNING, place="測試教室（範例）"))
    both = [text for _k, text in await outbox_texts(app, "class-changed:") if "時間與地點有異動" in text]
    assert len(both) == 2
    async with app.sessions() as s:
        told = set((await s.execute(select(Employee.id).join(ChannelAccount).join(
            OutboxMessage, OutboxMessage.account_id == ChannelAccount.id)
            .where(OutboxMessage.dedupe_key.startswith("class-changed:")))).scalars())
    assert told == {stays, waits}


async def test_lowering_capacity_below_enrolled_drops_nobody(app: Runtime) -> None:
    await add_classes(app, spec("T-LOW", capacity=4))
    cid = await class_id(app, "T-LOW")
    people = await add_people(app, 6)
    results = [await enroll_as(app, cid, p) for p in people]
    report = await add_classes(app, spec("T-LOW", capacity=2))
    assert any("capacity lowered from 4 to 2 but 4 people are enrolled: nobody is dropped; 2 over capacity"
               in note for note in report.notes)
    state = await seats(app, cid)
    assert (state.taken, state.capacity, state.over_capacity, state.enrolled) == (4, 2, 2, people[:4])
    for i in range(2):  # two cancellations bring it down to capacity: no promotion yet
        assert (await cancel_as(app, results[i].enrollment_id or 0, people[i])).promoted == ()  # type: ignore[attr-defined]
    state = await seats(app, cid)
    assert (state.taken, state.over_capacity, state.waitlisted) == (2, 0, people[4:])
    await cancel_as(app, results[2].enrollment_id or 0, people[2])  # now below: the first waiting gets it
    state = await seats(app, cid)
    assert (state.taken, state.enrolled, state.waitlisted) == (2, [people[3], people[4]], [people[5]])
    raised = await add_classes(app, spec("T-LOW", capacity=5))
    assert any("1 promoted from the waitlist and told" in note for note in raised.notes)
    assert (await seats(app, cid)).enrolled == [people[3], people[4], people[5]]


async def test_substitute_moves_the_seat_and_tells_both(app: Runtime, clock: FrozenClock) -> None:
    await add_classes(app, spec("T-SUB", capacity=1))
    cid = await class_id(app, "T-SUB")
    holder, waiting, colleague = await add_people(app, 3)
    (stranger,) = await add_people(app, 1, prefix="Q", agency="桃園市政府其他局（範例）")
    await bind(app, holder, waiting)
    seat = await enroll_as(app, cid, holder)
    await enroll_as(app, cid, waiting)

    async def sub(enrollment_id: int, replacement: int, scope: Scope = CLI_SCOPE) -> object:
        async with app.sessions.begin() as s:
            person = (await s.execute(select(Employee).where(Employee.id == replacement))).scalar_one()
            return await substitute(s, enrollment_id, person, scope=scope, now=app.clock.now(), deps=deps(app))

    other = Scope(agencies=frozenset({"桃園市政府其他局（範例）"}))
    assert (await sub(seat.enrollment_id or 0, colleague, other)).refusal.key == "classes.refuse.sub_scope"  # type: ignore[attr-defined]
    assert (await sub(seat.enrollment_id or 0, stranger)).refusal.key == "classes.refuse.sub_agency"  # type: ignore[attr-defined]
    mine = Scope(agencies=frozenset({TEST_AGENCY}))
    done = await sub(seat.enrollment_id or 0, waiting, mine)          # the one waiting takes the seat
    assert done.ok  # type: ignore[attr-defined]
    state = await seats(app, cid)
    assert (state.taken, state.enrolled, state.waitlisted) == (1, [waiting], [])
    keys = [k for k, _t in await outbox_texts(app, "class-sub-")]
    assert [k.split(":")[0] for k in keys] == ["class-sub-out", "class-sub-in"]
    texts = dict(await outbox_texts(app, "class-sub-"))
    assert (await employee(app, waiting)).name in texts[keys[0]]
    async with app.sessions() as s:
        row = (await s.execute(select(Enrollment).where(Enrollment.employee_id == holder))).scalar_one()
        assert (row.status, row.cancel_reason) == ("cancelled", "substituted")
    clock.set(CLOSES)
    again = await sub(done.enrollment_id or 0, colleague)  # type: ignore[attr-defined]
    assert again.refusal.key == "classes.refuse.sub_deadline"  # type: ignore[attr-defined]
