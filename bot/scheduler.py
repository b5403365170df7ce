"""The one scheduler: APScheduler 3.11's ``AsyncIOScheduler`` with fixed jobs that only decide.

Its single job (id ``reminders.sweep``, every ``sweep_every_seconds`` of ``reminders.yaml``) takes or keeps
the leader lock (:mod:`bot.db.leader`) and, only while it holds it, sweeps the reminder sources: the
rows go into the outbox with their dedupe keys and the delivery worker sends them; the certificate
feature's claim-window reminders and HR's pending-claims digest are decided on the same tick. Business reminders
are never scheduler jobs (the store is the default in-memory one; nothing is pickled), so a restart,
a second process by mistake or a sweep killed half-way change nothing: the next sweep decides again
from the rows. Processes that do not hold the lock stand by and take over when the holder dies.

Runs inside ``abc-bot serve`` and ``abc-bot run`` unless ``SCHEDULER=off``, and alone as
``abc-bot scheduler``. Lives at the bootstrap level: it needs the runtime and imports no entry point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import DEFAULT_VAR_DIR
from bot.db.leader import LeaderLock, leader_lock
from bot.runtime import Runtime
from bot.services.certificates import claim_window_reminders, hr_pending_digest
from bot.services.reminders import SweepResult

log = logging.getLogger(__name__)

SWEEP_JOB = "reminders.sweep"


class SchedulerRunner:
    """The scheduler of one process: a leader lock and the sweep job."""

    def __init__(self, runtime: Runtime, *, clock: Clock | None = None, lock: LeaderLock | None = None,
                 on_queued: Callable[[], None] | None = None) -> None:
        self.runtime = runtime
        self.clock = clock or runtime.clock
        self.lock = lock or leader_lock(runtime.engine, DEFAULT_VAR_DIR)
        self.on_queued = on_queued
        """Called after a sweep queued something (the server wakes its outbox worker)."""
        self.leader = False
        self._scheduler: AsyncIOScheduler | None = None

    async def tick(self) -> SweepResult | None:
        """One run of the job: sweep when this process holds the lock (None when it stands by)."""
        held = await self.lock.hold()
        if held != self.leader:
            log.info("scheduler: %s", "took the lead" if held else "standing by")
            self.leader = held
        reminders = self.runtime.app.reminders
        if not held or reminders is None:
            return None
        now = self.clock.now()
        async with self.runtime.sessions.begin() as session:
            result = await reminders.sweep(session, now)
            claims = await self.certificate_notices(session, now)
        if result.total or claims:
            log.info("scheduler: queued %s, skipped %s", result.queued, result.skipped)
            if self.on_queued is not None:
                self.on_queued()
        return result

    async def certificate_notices(self, session: AsyncSession, now: datetime) -> int:
        """The certificate feature's reminders: "your claim window closes in N days" and HR's digest.

        Keyed per draft and day / per officer and day, so sweeping every minute queues each once; not
        decided inside quiet hours (these kinds are not held back by the worker, so they wait here).
        """
        reminders = self.runtime.app.reminders
        if reminders is not None and reminders.ctx.quiet.contains(now):
            return 0
        cert = self.runtime.app.certificates
        due = [*await claim_window_reminders(session, cert.settings, now),
               *await hr_pending_digest(session, cert.settings, now)]
        return await cert.notices.notify(session, due, now=now) if due else 0

    async def _job(self) -> None:
        try:
            await self.tick()
        except Exception:
            log.exception("scheduler: sweep failed; the next one decides again")

    def start(self) -> None:
        """Add the fixed jobs (deterministic ids) and start; the first sweep runs at once. Needs a running loop."""
        reminders = self.runtime.app.reminders
        every = reminders.ctx.settings.sweep_every_seconds if reminders is not None else 60
        scheduler = AsyncIOScheduler(timezone="Asia/Taipei",
                                     job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": every})
        scheduler.add_job(self._job, "interval", seconds=every, id=SWEEP_JOB, replace_existing=True,
                          next_run_time=datetime.now().astimezone() + timedelta(seconds=0.1))
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Stop the jobs and let another process take the lead."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.lock.release()
        self.leader = False
