"""The channel-neutral retry helper: attempts, doubling jittered waits, the retryable predicate."""

from __future__ import annotations

import pytest

from bot.channels.retry import backoff_delay, with_retries


class Temporary(Exception):
    pass


class Permanent(Exception):
    pass


class Calls:
    """A call that fails with the given errors first, then returns ``result``; waits are recorded, not slept."""

    def __init__(self, *failures: Exception, result: str = "ok") -> None:
        self.failures = list(failures)
        self.result = result
        self.count = 0
        self.waits: list[float] = []
        self.failed: list[tuple[str, int, float | None]] = []

    async def __call__(self) -> str:
        self.count += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.result

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def on_failure(self, exc: BaseException, attempt: int, delay: float | None) -> None:
        self.failed.append((type(exc).__name__, attempt, delay))

    async def run(self, attempts: int = 4) -> str:
        return await with_retries(self, attempts=attempts, backoff=0.5, errors=(Temporary, Permanent),
                                  retryable=lambda exc: isinstance(exc, Temporary), sleep=self.sleep,
                                  failed=self.on_failure)


async def test_retryable_failures_are_retried_with_doubling_jittered_waits() -> None:
    calls = Calls(Temporary(), Temporary(), Temporary())
    assert await calls.run() == "ok"
    assert calls.count == 4
    [first, second, third] = calls.waits
    assert 0.5 <= first <= 0.65 and 1.0 <= second <= 1.3 and 2.0 <= third <= 2.6
    assert calls.failed == [("Temporary", 1, first), ("Temporary", 2, second), ("Temporary", 3, third)]


async def test_the_last_attempts_error_is_raised() -> None:
    calls = Calls(Temporary(), Temporary(), Temporary())
    with pytest.raises(Temporary):
        await calls.run(attempts=3)
    assert calls.count == 3 and len(calls.waits) == 2
    assert calls.failed[-1] == ("Temporary", 3, None)


async def test_an_error_that_will_not_go_away_is_raised_at_once() -> None:
    calls = Calls(Permanent())
    with pytest.raises(Permanent):
        await calls.run()
    assert calls.count == 1 and calls.waits == [] and calls.failed == [("Permanent", 1, None)]


async def test_errors_it_was_not_asked_to_catch_pass_through_unseen() -> None:
    calls = Calls(KeyError("bug"))
    with pytest.raises(KeyError):
        await calls.run()
    assert calls.count == 1 and calls.failed == []


async def test_one_attempt_means_no_retry_and_zero_is_refused() -> None:
    calls = Calls(Temporary())
    with pytest.raises(Temporary):
        await calls.run(attempts=1)
    assert calls.waits == []
    with pytest.raises(ValueError, match="at least 1"):
        await Calls().run(attempts=0)


def test_backoff_delay_doubles_within_its_jitter() -> None:
    for attempt, base in ((1, 0.5), (2, 1.0), (4, 4.0)):
        assert base <= backoff_delay(0.5, attempt) <= base * 1.3
    assert backoff_delay(1.0, 1, jitter=0.0) == 1.0


async def test_a_wait_the_platform_asks_for_replaces_the_backoff() -> None:
    class Flood(Exception):
        def __init__(self, wait: float) -> None:
            self.wait = wait

    calls = Calls(Flood(7.0), Temporary())
    result = await with_retries(calls, attempts=3, backoff=0.5, errors=(Flood, Temporary), retryable=lambda e: True,
                                sleep=calls.sleep, retry_after=lambda e: e.wait if isinstance(e, Flood) else None)
    assert result == "ok"
    assert 7.0 <= calls.waits[0] <= 7.7  # what was asked (plus up to 10 %), not 0.5 s
    assert calls.waits[1] < 2  # the next error asked nothing: the backoff again


async def test_a_wait_longer_than_max_wait_is_raised_at_once() -> None:
    class Flood(Exception):
        pass

    calls = Calls(Flood())
    with pytest.raises(Flood):
        await with_retries(calls, attempts=3, backoff=0.5, errors=(Flood,), retryable=lambda e: True,
                           sleep=calls.sleep, retry_after=lambda e: 3600.0, max_wait=60)
    assert calls.waits == [] and calls.count == 1
