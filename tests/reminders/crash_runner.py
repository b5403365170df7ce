"""A bot process for the crash test: the scheduler's sweep at a given instant, then LINE delivery until idle.

``python -m tests.reminders.crash_runner --at ISO`` with ``DATABASE_URL`` and the LINE settings in the
environment (the fake LINE API). It prints ``sweeping``, ``swept N``, ``delivering``, ``done`` so the test
knows when to ``kill -9`` it. The clock is frozen at ``--at`` (the plan year's dates are in 2024).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from bot.bootstrap import build_app, build_channels, build_worker
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.metrics import Metrics
from bot.scheduler import SchedulerRunner


async def main(at: datetime) -> None:
    clock = FrozenClock(at)
    runtime = await build_app(load_settings(), clock=clock)
    channels = build_channels(runtime, Metrics())
    for channel in channels:
        await channel.start()
    worker = build_worker(runtime, channels)
    assert worker is not None
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
