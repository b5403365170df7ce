"""A bot process for the crash test: the scheduler's sweep at a given instant, then LINE delivery until idle.

``python -m tests.reminders.crash_runner --at ISO`` with ``DATABASE_URL`` and the LINE settings in the
environment (the fake LINE API). It prints ``sweeping``, ``swept N``, ``delivering``, ``done``. The clock is
frozen at ``--at`` (the plan year's dates are in 2024).

Two hooks make the process ``kill -9`` ITSELF at a chosen point, so the test knows exactly where the
crash landed (no sleeps, no racing a signal against the work):

* ``CRASH_AFTER_OUTBOX_INSERTS=N``: the sweep's outbox rows are written in statements of
  ``CRASH_INSERT_PAGE`` rows (default 100; the bot's own page is about 2,400 rows, so 2,000 would be one
  statement); after the N-th such statement has run, inside the sweep's still open transaction, SIGKILL;
* ``CRASH_AFTER_PUSHES=N``: after the N-th push LINE accepted (the answer received, the outcome not yet
  written: the worker writes a batch's outcomes after its sends), SIGKILL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from datetime import datetime
from typing import Any

from sqlalchemy import event

import bot.services.notices.outbox as outbox
from bot.bootstrap import build_app, build_channels, build_worker
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.conversation import Reply
from bot.metrics import Metrics
from bot.scheduler import SchedulerRunner
from bot.services.notices import ChannelSender, Recipient

OUTBOX_COLUMNS = 12
"""Bound values per outbox row in ``enqueue_many``'s INSERT (its page is ``MAX_PARAMETERS // columns`` rows)."""


def die() -> None:
    """``kill -9`` this process: no cleanup, no commit, no flush of anything."""
    os.kill(os.getpid(), signal.SIGKILL)


def crash_after_inserts(engine: Any, statements: int) -> None:
    """SIGKILL after ``statements`` INSERTs into the outbox have run (the transaction not committed)."""
    seen = 0

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal seen
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            seen += 1
            if seen >= statements:
                print("killed after", seen, "outbox inserts", flush=True)
                die()

    event.listen(engine.sync_engine, "after_cursor_execute", after)


class CrashAfterPushes:
    """A sender that SIGKILLs the process right after its ``limit``-th delivery was accepted."""

    def __init__(self, inner: ChannelSender, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.done = 0

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        """Deliver through the real sender, then count (and die at the limit)."""
        await self.inner.deliver(recipient, replies, retry_key)
        self.done += 1
        if self.done >= self.limit:
            print("killed after", self.done, "pushes", flush=True)
            die()


async def main(at: datetime) -> None:
    clock = FrozenClock(at)
    runtime = await build_app(load_settings(), clock=clock)
    inserts = int(os.environ.get("CRASH_AFTER_OUTBOX_INSERTS", "0"))
    if inserts:
        outbox.MAX_PARAMETERS = OUTBOX_COLUMNS * int(os.environ.get("CRASH_INSERT_PAGE", "100"))
        crash_after_inserts(runtime.engine, inserts)
    channels = build_channels(runtime, Metrics())
    for channel in channels:
        await channel.start()
    worker = build_worker(runtime, channels)
    assert worker is not None
    pushes = int(os.environ.get("CRASH_AFTER_PUSHES", "0"))
    if pushes:
        worker.senders = {**worker.senders, "line": CrashAfterPushes(worker.senders["line"], pushes)}
    print("sweeping", flush=True)
    result = await SchedulerRunner(runtime, clock=clock).tick()
    print("swept", -1 if result is None else result.total, flush=True)
    print("delivering", flush=True)
    await worker.run_until_idle(max_batches=10_000)
    print("done", flush=True)
    for channel in channels:
        await channel.stop(1)
    await runtime.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--at", required=True)
    asyncio.run(main(datetime.fromisoformat(parser.parse_args().at)))
