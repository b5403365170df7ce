"""A small Prometheus registry: counters and histograms with labels, rendered as the text format.

Written here rather than taken from ``prometheus-client`` because the server needs a dozen series in one
process and nothing else (no push gateway, no multiprocess mode); this is ~100 lines with no global
state, so each test gets its own registry.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence

LabelValues = tuple[str, ...]

DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing count, optionally split by labels."""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(labels)
        self._values: dict[LabelValues, float] = {}
        if not labels:
            self._values[()] = 0.0

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        """Add ``amount`` to the series named by ``labels`` (in the order the counter declared)."""
        if len(labels) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}")
        self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        """The current value of one series (0 when never incremented)."""
        return self._values.get(labels, 0.0)

    def render(self) -> Iterable[str]:
        """Lines of the text exposition format."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for labels, value in sorted(self._values.items()):
            yield f"{self.name}{_labels(self.label_names, labels)} {_number(value)}"


class Histogram:
    """Observations counted into cumulative buckets (seconds, by convention)."""

    def __init__(self, name: str, help_text: str, buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        self.name, self.help = name, help_text
        self.bounds = tuple(sorted(buckets))
        self._counts = [0] * (len(self.bounds) + 1)
        self._sum = 0.0

    def observe(self, value: float) -> None:
        """Record one observation."""
        self._counts[bisect.bisect_left(self.bounds, value)] += 1
        self._sum += value

    @property
    def count(self) -> int:
        """How many observations were recorded."""
        return sum(self._counts)

    def render(self) -> Iterable[str]:
        """Lines of the text exposition format."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        running = 0
        for bound, count in zip((*self.bounds, math.inf), self._counts, strict=True):
            running += count
            yield f'{self.name}_bucket{{le="{_number(bound)}"}} {running}'
        yield f"{self.name}_sum {_number(self._sum)}"
        yield f"{self.name}_count {running}"


class Metrics:
    """Every series the web server exposes on ``/metrics``."""

    def __init__(self) -> None:
        self.requests = Counter("abc_http_requests_total", "HTTP requests answered, by path and status.",
                                ("path", "status"))
        self.events_received = Counter("abc_line_events_received_total",
                                       "LINE webhook events accepted for handling, by event type.", ("type",))
        self.events_handled = Counter("abc_line_events_handled_total",
                                      "LINE events handled, by event type and result.", ("type", "result"))
        self.webhooks_rejected = Counter("abc_line_webhooks_rejected_total",
                                         "LINE webhook requests refused, by reason.", ("reason",))
        self.event_latency = Histogram("abc_line_event_seconds",
                                       "Seconds from receiving a LINE event to its answer being sent.")
        self.api_calls = Counter("abc_line_api_calls_total", "Calls to the LINE API, by call.", ("call",))
        self.api_failures = Counter("abc_line_api_failures_total",
                                    "Failed calls to the LINE API, by call and status (0 = no response).",
                                    ("call", "status"))
        self.outbox = Counter("abc_outbox_messages_total", "Outbox rows finished, by channel and final status.",
                              ("channel", "status"))
        self.outbox_retries = Counter("abc_outbox_retries_total", "Outbox deliveries put back for a retry.",
                                      ("channel",))
        self.tg_updates = Counter("abc_telegram_updates_total", "Telegram updates, by type and result.",
                                  ("type", "result"))
        self.tg_rejected = Counter("abc_telegram_webhooks_rejected_total",
                                   "Telegram webhook requests refused, by reason.", ("reason",))
        self.tg_api_calls = Counter("abc_telegram_api_calls_total", "Calls to the Bot API, by method.", ("call",))
        self.tg_api_failures = Counter("abc_telegram_api_failures_total",
                                       "Failed calls to the Bot API, by method and status (0 = no answer).",
                                       ("call", "status"))
        self.tg_latency = Histogram("abc_telegram_update_seconds",
                                    "Seconds from receiving a Telegram update to its answer being sent.")

    def all(self) -> list[Counter | Histogram]:
        """Every metric, in exposition order."""
        return [self.requests, self.events_received, self.events_handled, self.webhooks_rejected,
                self.event_latency, self.api_calls, self.api_failures, self.outbox, self.outbox_retries,
                self.tg_updates, self.tg_rejected, self.tg_api_calls, self.tg_api_failures, self.tg_latency]

    def render(self) -> str:
        """The whole registry in the Prometheus text format (version 0.0.4)."""
        return "\n".join(line for metric in self.all() for line in metric.render()) + "\n"
