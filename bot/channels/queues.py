"""Per-user ordered queues for incoming events, shared by every webhook channel.

A webhook is answered at once and its events are handled afterwards. :class:`UserQueues` keeps a user's
events in arrival order (one at a time per user), bounds how many run at once overall, and bounds how
many may wait: beyond ``max_pending`` the webhook answers more slowly rather than let memory grow when a
platform sends faster than the bot answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.logsafe import log_failure

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class UserQueues:
    """Runs jobs one at a time per key (a user), at most ``concurrency`` at once overall.

    ``submit`` waits while ``max_pending`` jobs are queued, which slows the webhook down instead of
    letting memory grow. ``label`` names the channel in the log line of a job that failed.
    """

    def __init__(self, concurrency: int = 32, max_pending: int = 5000, *, label: str = "channel") -> None:
        self._gate = asyncio.Semaphore(concurrency)
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._room = asyncio.Condition()
        self.max_pending = max_pending
        self.pending = 0
        self.label = label

    async def submit(self, key: str, job: Job) -> None:
        """Queue ``job`` behind the other jobs of ``key``."""
        if self.pending >= self.max_pending:
            async with self._room:
                await self._room.wait_for(lambda: self.pending < self.max_pending)
        self.pending += 1
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            queue.append(job)
            self._workers[key] = asyncio.create_task(self._drain(key, queue))
        else:
            queue.append(job)

    async def _drain(self, key: str, queue: deque[Job]) -> None:
        try:
            while queue:
                job = queue[0]
                try:
                    async with self._gate:
                        await job()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # its text may quote what the user sent
                    log_failure(log, "%s event job failed", exc, self.label)
                finally:
                    queue.popleft()
                    self.pending -= 1
                    if self.pending < self.max_pending:
                        async with self._room:
                            self._room.notify_all()
        finally:
            self._queues.pop(key, None)
            self._workers.pop(key, None)

    @property
    def busy(self) -> bool:
        """True while any job is queued or running."""
        return bool(self._workers)

    async def join(self, within: float | None = None) -> bool:
        """Wait until every queued job has run (True), or ``within`` seconds passed (False)."""
        deadline = None if within is None else time.monotonic() + within
        while self._workers:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(list(self._workers.values()), timeout=left)
        return True

    async def cancel(self) -> int:
        """Cancel whatever is still queued or running; returns how many jobs were dropped."""
        dropped = self.pending
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pending = 0
        return dropped
