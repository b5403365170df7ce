"""Retrying a call to a chat platform's API: a number of attempts, doubling jittered waits, a predicate.

The channel says which errors it catches and which of those may succeed later (LINE: 429, 5xx, 401 and
no answer at all); everything else is raised at once. Waits double from ``backoff`` and are stretched by
up to ``jitter`` (LINE sends no ``Retry-After`` for most limits, so clients must spread out themselves).
A platform that says how long to wait (Telegram's 429 carries ``retry_after``) passes ``retry_after``,
which reads that wait out of the error; it replaces the backoff. ``sleep`` is injected, so tests retry
without waiting.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
RetryAfter = Callable[[BaseException], float | None]
"""The wait a platform asked for in an error (Telegram's 429 ``retry_after``), or None to use the backoff."""
Failed = Callable[[BaseException, int, float | None], None]
"""Told of each failed attempt: the error, the attempt (from 1), and the wait before the next (None: no next)."""


def backoff_delay(backoff: float, attempt: int, jitter: float = 0.3) -> float:
    """The wait after failed attempt ``attempt`` (from 1): ``backoff × 2^(attempt−1)``, stretched up to ``jitter``."""
    return backoff * (2.0 ** (attempt - 1)) * random.uniform(1.0, 1.0 + jitter)


async def with_retries(call: Callable[[], Awaitable[T]], *, attempts: int, backoff: float,
                       errors: tuple[type[BaseException], ...], retryable: Callable[[BaseException], bool],
                       sleep: Sleep = asyncio.sleep, failed: Failed | None = None,
                       retry_after: RetryAfter | None = None, max_wait: float = 60.0) -> T:
    """Await ``call()`` up to ``attempts`` times, waiting between attempts that failed with a retryable error.

    Args:
        call: makes one attempt.
        attempts: how many attempts at most (1: no retry).
        backoff: the wait after the first failed attempt, in seconds; it doubles after each.
        errors: the errors that count as a failed attempt; any other propagates at once, unseen.
        retryable: whether a failed attempt may succeed later.
        sleep: how to wait.
        failed: told of every failed attempt (for metrics and logs) before the wait or the raise.
        retry_after: reads the wait the platform asked for out of an error; that wait (plus up to 10 %)
            replaces the backoff. A wait longer than ``max_wait`` is not waited for: the error is raised.
        max_wait: the longest requested wait honoured in place (seconds).

    Returns:
        What the first successful attempt returned.

    Raises:
        The error of the last attempt, or of the first that is not retryable.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    attempt = 1
    while True:
        try:
            return await call()
        except errors as exc:
            delay = backoff_delay(backoff, attempt) if attempt < attempts and retryable(exc) else None
            asked = retry_after(exc) if retry_after is not None and delay is not None else None
            if asked is not None:
                delay = asked * random.uniform(1.0, 1.1) if asked <= max_wait else None
            if failed is not None:
                failed(exc, attempt, delay)
            if delay is None:
                raise
            await sleep(delay)
            attempt += 1
