"""A class reminder through the real LINE SDK to the fake LINE API: one push, its retry key, the cancel button."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.clock import TAIPEI, FrozenClock
from bot.db.models.classes import Enrollment
from bot.metrics import Metrics
from bot.services.notices import DeliveryWorker
from tests.classes.conftest import add_classes, add_people, class_id, enroll_as, spec
from tests.line import webhooks as wh
from tests.line.fake_line import FakeLine
from tests.reminders.test_sweep import reminders, sweep, trainee_on_line


async def test_the_evening_reminder_is_pushed_once_with_its_retry_key_and_a_cancel_postback(
        app: Runtime, clock: FrozenClock, fake: FakeLine) -> None:
    await add_classes(app, spec("L-1", closes="2024-03-19 20:00", meetings=(("2024-03-20", "14:00", "17:00"),)))
    cid = await class_id(app, "L-1")
    (person,) = await add_people(app, 1, prefix="L")
    await trainee_on_line(app, person, "line-1")
    await enroll_as(app, cid, person)
    await sweep(app, datetime(2024, 3, 19, 18, 0, tzinfo=TAIPEI))
    clock.set(datetime(2024, 3, 19, 18, 0, tzinfo=TAIPEI))
    client = LineClient(wh.TOKEN, fake.url)
    r = reminders(app)
    worker = DeliveryWorker(app.sessions, clock, {"line": LineSender(client, Metrics())}, checks=r.checks(),
                            quiet=r.ctx.quiet)
    try:
        assert await worker.run_until_idle() == {"sent": 1}
        assert await worker.run_until_idle() == {}
    finally:
        await client.close()
    (push,) = fake.sent("push")
    assert push.retry_key
    assert push.json["to"] == wh.user_id("line-1")
    async with app.sessions() as s:
        enrollment_id = (await s.execute(select(Enrollment.id).where(Enrollment.class_id == cid))).scalar_one()
    assert f"cx|{enrollment_id}" in push.body.decode()
    assert "明天上課" in push.json["messages"][0]["text"]
