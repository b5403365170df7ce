"""Never overbooked: hundreds of concurrent attempts, each in its own transaction, on SQLite and PostgreSQL.

Every attempt opens its own session (as concurrent chat messages do). On PostgreSQL they really run in
parallel on separate connections; on SQLite writers queue on the database lock (busy_timeout).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.db.models.classes import Enrollment
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.services.accounts import bind_console_account
from bot.services.classes import EnrollResult, cancel
from tests.classes.conftest import add_classes, add_people, class_id, deps, enroll_as, seats, spec

CAPACITY = 20


async def test_200_concurrent_attempts_at_20_seats(app: Runtime) -> None:
    await add_classes(app, spec("T-RUSH", capacity=CAPACITY))
    cid = await class_id(app, "T-RUSH")
    people = await add_people(app, 180)
    attempts = people + people[:20]               # 200 attempts; 20 people press twice
    results: list[EnrollResult] = await asyncio.gather(*(enroll_as(app, cid, p) for p in attempts))

    outcomes = Counter(r.outcome for r in results)
    assert outcomes == {"enrolled": CAPACITY, "waitlisted": 180 - CAPACITY, "refused": 20}
    assert {r.refusal.key for r in results if r.refusal} <= {"classes.refuse.already_enrolled",
                                                             "classes.refuse.already_waitlisted"}
    state = await seats(app, cid)
    assert state.taken == len(state.enrolled) == CAPACITY           # the counter equals the rows
    assert state.rows_per_person == 1                                # no one twice
    assert len(state.enrolled) + len(state.waitlisted) == 180
    # Seats went to the first 20 to get the class lock, the queue follows the same order, and every
    # waitlisted person was told the place they really have.
    async with app.sessions() as s:
        rows = (await s.execute(select(Enrollment).where(Enrollment.class_id == cid)
                                .order_by(Enrollment.seq))).scalars().all()
    assert max(r.seq for r in rows if r.status == "enrolled") < min(r.seq for r in rows if r.status == "waitlisted")
    told = {r.enrollment_id: r.position for r in results if r.outcome == "waitlisted"}
    queue = [r.id for r in rows if r.status == "waitlisted"]
    assert sorted(told.values()) == list(range(1, len(queue) + 1))
    assert [told[i] for i in queue] == list(range(1, len(queue) + 1))


async def test_cancels_and_enrolls_interleaved(app: Runtime) -> None:
    await add_classes(app, spec("T-MIX", capacity=CAPACITY))
    cid = await class_id(app, "T-MIX")
    people = await add_people(app, 120)
    first = [await enroll_as(app, cid, p) for p in people[:50]]       # 20 seats, 30 waiting (in this order)
    seated = [(r.enrollment_id or 0, p) for r, p in zip(first[:CAPACITY], people[:CAPACITY], strict=True)]
    waiting = [(r.enrollment_id or 0, p) for r, p in zip(first[CAPACITY:], people[CAPACITY:50], strict=True)]
    async with app.sessions.begin() as s:  # the people waiting have a chat account, so promotions are told
        numbers = (await s.execute(select(Employee.employee_no).where(
            Employee.id.in_([p for _e, p in waiting])))).scalars().all()
        for number in numbers:
            await bind_console_account(s, number, lang="zh-TW", now=app.clock.now())
    d = deps(app)

    async def cancel_as(enrollment_id: int, employee_id: int) -> tuple[bool, int]:
        async with app.sessions.begin() as s:
            result = await cancel(s, enrollment_id, employee_id, now=app.clock.now(), deps=d)
            return result.ok, len(result.promoted)

    leaving_seats = seated[:12]
    leaving_queue = waiting[-5:]                                      # the last five give up waiting
    jobs = ([cancel_as(e, p) for e, p in leaving_seats] + [cancel_as(e, p) for e, p in leaving_queue]
            + [enroll_as(app, cid, p) for p in people[50:120]])
    order = list(range(len(jobs)))
    order = order[::3] + order[1::3] + order[2::3]                    # mix cancels among the enrolls
    outcomes = await asyncio.gather(*(jobs[i] for i in order))

    cancels = [o for o in outcomes if isinstance(o, tuple)]
    assert all(ok for ok, _n in cancels) and len(cancels) == 17
    promoted = sum(n for _ok, n in cancels)
    state = await seats(app, cid)
    assert state.taken == len(state.enrolled) == CAPACITY
    assert state.rows_per_person == 1
    # Seats freed while people were waiting went to those waiting, in queue order (earliest first):
    # 12 seats freed, 25 remained queued, so the first 12 of them now hold the seats.
    still_waiting = [p for _e, p in waiting[:-5]]
    assert promoted == 12
    assert sorted(state.enrolled) == sorted([p for _e, p in seated[12:]] + still_waiting[:12])
    assert state.waitlisted[: len(still_waiting) - 12] == still_waiting[12:]   # the old queue keeps its order
    assert state.waitlist_seq == sorted(state.waitlist_seq)
    async with app.sessions() as s:
        enrolled_rows = (await s.execute(select(func.count()).select_from(Enrollment).where(
            Enrollment.class_id == cid, Enrollment.status == "enrolled"))).scalar_one()
        told = (await s.execute(select(Employee.id).join(ChannelAccount).join(
            OutboxMessage, OutboxMessage.account_id == ChannelAccount.id)
            .where(OutboxMessage.dedupe_key.startswith("class-promoted:")))).scalars().all()
    assert enrolled_rows == CAPACITY
    assert sorted(told) == sorted(still_waiting[:12])  # each promoted person told once, nobody else


async def test_same_person_hammering_one_class(app: Runtime) -> None:
    await add_classes(app, spec("T-TAP", capacity=1))
    cid = await class_id(app, "T-TAP")
    (person,) = await add_people(app, 1)
    results = await asyncio.gather(*(enroll_as(app, cid, person) for _ in range(30)))
    assert Counter(r.outcome for r in results) == {"enrolled": 1, "refused": 29}
    state = await seats(app, cid)
    assert (state.taken, state.enrolled, state.rows_per_person) == (1, [person], 1)


async def test_one_person_racing_into_clashing_classes_gets_one(app: Runtime) -> None:
    codes = [f"T-CLASH{i}" for i in range(8)]
    await add_classes(app, *(spec(code) for code in codes))     # all meet at the same hours: they clash
    ids = [await class_id(app, code) for code in codes]
    (person,) = await add_people(app, 1, prefix="C")
    results = await asyncio.gather(*(enroll_as(app, cid, person) for cid in ids))
    assert Counter(r.outcome for r in results)["enrolled"] == 1
    async with app.sessions() as s:
        active = (await s.execute(select(func.count()).select_from(Enrollment).where(
            Enrollment.employee_id == person, Enrollment.status.in_(("enrolled", "waitlisted"))))).scalar_one()
    assert active == 1


async def test_a_substitute_racing_the_same_persons_own_clashing_enroll_gets_one(app: Runtime) -> None:
    from bot.services.accounts import Scope
    from bot.services.classes import substitute

    await add_classes(app, spec("T-SUBX", capacity=1), spec("T-OWN"))   # same hours: they clash
    sub_class, own_class = await class_id(app, "T-SUBX"), await class_id(app, "T-OWN")
    holder, colleague = await add_people(app, 2, prefix="S")
    seat = await enroll_as(app, sub_class, holder)

    async def hr_names_colleague() -> bool:
        async with app.sessions.begin() as s:
            person = (await s.execute(select(Employee).where(Employee.id == colleague))).scalar_one()
            result = await substitute(s, seat.enrollment_id or 0, person, scope=Scope(city=True),
                                      now=app.clock.now(), deps=deps(app))
            return result.ok

    async def colleague_enrolls() -> bool:
        return (await enroll_as(app, own_class, colleague)).outcome == "enrolled"

    for _ in range(3):
        outcomes = await asyncio.gather(hr_names_colleague(), colleague_enrolls())
        assert sum(outcomes) <= 1, outcomes
    async with app.sessions() as s:
        active = (await s.execute(select(func.count()).select_from(Enrollment).where(
            Enrollment.employee_id == colleague, Enrollment.status == "enrolled"))).scalar_one()
    assert active == 1
