"""Two schedulers on one database (both databases): one leads, the other stands by and takes over."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.db.leader import AdvisoryLock, FileLock, LeaderLock
from bot.db.models.core import OutboxMessage
from bot.scheduler import SchedulerRunner
from tests.reminders.test_sweep import a_class_with_one_trainee


def lock_for(app: Runtime, tmp_path: Path) -> LeaderLock:
    if app.engine.dialect.name == "postgresql":
        return AdvisoryLock(app.engine, key=0x7E57)
    return FileLock(tmp_path / "scheduler.lock")


async def test_only_one_of_two_schedulers_sweeps_and_the_other_takes_over_when_it_stops(
        app: Runtime, clock: FrozenClock, tmp_path: Path) -> None:
    await a_class_with_one_trainee(app)
    clock.set(datetime(2024, 3, 19, 18, 0, tzinfo=TAIPEI))
    first = SchedulerRunner(app, clock=clock, lock=lock_for(app, tmp_path))
    second = SchedulerRunner(app, clock=clock, lock=lock_for(app, tmp_path))
    one = await first.tick()
    two = await second.tick()
    assert one is not None and one.total == 1
    assert two is None  # standing by
    await first.stop()
    taken = await second.tick()
    assert taken is not None and taken.total == 0  # nothing new: the first already queued it
    await second.stop()
    async with app.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.kind.startswith("reminders.")))).scalar_one() == 1
