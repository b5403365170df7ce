"""The channel-neutral per-user queues: order per user, bounded concurrency, bounded backlog, shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import pytest

from bot.channels.queues import Job, UserQueues


class Jobs:
    """Jobs that record when they start and finish and wait until they are released."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.started: dict[str, asyncio.Event] = {}
        self.release: dict[str, asyncio.Event] = {}
        self.running = 0
        self.most_running = 0

    def job(self, name: str, *, fail: bool = False) -> Job:
        self.started[name] = asyncio.Event()
        self.release[name] = asyncio.Event()

        async def run() -> None:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.log.append(("start", name))
            self.started[name].set()
            try:
                await self.release[name].wait()
                if fail:
                    raise RuntimeError("job failed")
            finally:
                self.running -= 1
                self.log.append(("end", name))

        return run


async def within(awaitable: Awaitable[object]) -> None:
    async with asyncio.timeout(5):
        await awaitable


async def test_one_users_jobs_run_one_at_a_time_in_arrival_order_while_other_users_go_on() -> None:
    queues, jobs = UserQueues(concurrency=8), Jobs()
    for name in ("a1", "a2", "a3"):
        await queues.submit("alice", jobs.job(name))
    await queues.submit("bob", jobs.job("b1"))
    await within(jobs.started["b1"].wait())        # bob does not wait behind alice
    assert ("start", "a2") not in jobs.log          # alice's second waits for her first
    for name in ("a3", "a2", "a1", "b1"):          # released in the wrong order: still run in arrival order
        jobs.release[name].set()
    assert await queues.join(5)
    alice = [entry for entry in jobs.log if entry[1].startswith("a")]
    assert alice == [("start", "a1"), ("end", "a1"), ("start", "a2"), ("end", "a2"), ("start", "a3"), ("end", "a3")]
    assert not queues.busy and queues.pending == 0


async def test_at_most_concurrency_jobs_run_at_once() -> None:
    queues, jobs = UserQueues(concurrency=2), Jobs()
    for n in range(5):
        await queues.submit(f"user{n}", jobs.job(f"u{n}"))
    await within(jobs.started["u0"].wait())
    await within(jobs.started["u1"].wait())
    assert jobs.running == 2 and not jobs.started["u2"].is_set()
    for event in jobs.release.values():
        event.set()
    assert await queues.join(5)
    assert jobs.most_running == 2 and len(jobs.log) == 10


async def test_submit_waits_while_the_backlog_is_full() -> None:
    queues, jobs = UserQueues(concurrency=4, max_pending=2), Jobs()
    await queues.submit("alice", jobs.job("a1"))
    await queues.submit("alice", jobs.job("a2"))
    third = asyncio.create_task(queues.submit("bob", jobs.job("b1")))
    await within(jobs.started["a1"].wait())         # the loop has run the third submit too: it waits for room
    assert not third.done() and queues.pending == 2
    jobs.release["a1"].set()
    await within(third)                             # a1 finished: room for one more
    assert queues.pending == 2
    jobs.release["a2"].set()
    jobs.release["b1"].set()
    assert await queues.join(5)


async def test_a_failing_job_is_logged_and_the_users_next_job_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    queues, jobs = UserQueues(label="LINE"), Jobs()
    await queues.submit("alice", jobs.job("a1", fail=True))
    await queues.submit("alice", jobs.job("a2"))
    jobs.release["a1"].set()
    jobs.release["a2"].set()
    with caplog.at_level(logging.ERROR, logger="bot.channels.queues"):
        assert await queues.join(5)
    assert ("end", "a2") in jobs.log
    [record] = caplog.records  # one line: the exception's type and where, never its text (it may quote input)
    assert record.getMessage().startswith("LINE event job failed error=RuntimeError at bot/channels/queues.py:")
    assert record.exc_info is None and "job failed" not in record.getMessage().split("error=")[1]


async def test_join_gives_up_after_its_time_and_cancel_drops_what_is_left() -> None:
    queues, jobs = UserQueues(), Jobs()
    await queues.submit("alice", jobs.job("a1"))
    await queues.submit("alice", jobs.job("a2"))
    await queues.submit("bob", jobs.job("b1"))
    await within(jobs.started["b1"].wait())
    assert await queues.join(0) is False and queues.busy
    assert await queues.cancel() == 3
    assert not queues.busy and queues.pending == 0
    assert ("start", "a2") not in jobs.log
