"""Benchmark: a city-wide announcement to 30,000 people, identical text (multicast) and personalised (push).

Builds 30,000 employees with one LINE account each (one in ten reads English) in a scratch database,
starts the fake LINE API in ANOTHER process (``python -m tests.line.fake_line``, so its work is not
counted as ours), then measures from "send" (plan + queue, committed) until every call was made:

* identical text: multicast calls made (target ≤ 60) and this process's CPU seconds (target ≤ 1 s);
* identical text with the fake failing 20 % of calls (429/500, half of them accepted all the same):
  every recipient exactly once;
* identical text with a link button and a picture (two message objects a recipient): the same targets;
* personalised text (``{name}``): pushed through the outbox worker (batches of 200 as its default, 16 recipients at a
  time); CPU seconds (target ≤ 10 s), and the push calls the fake received, accepted and answered 409.

CPU is this process's ``time.process_time`` (what the goals are about: other work on a shared machine
inflates the wall clock, which is printed beside it).

Usage: .venv/bin/python bench/broadcast.py [--people N] [--only sqlite|postgres] [--skip-personalised]
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bench.scratch import machine, options, scratch_postgres, scratch_sqlite
from bot.bootstrap import build_app
from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.clock import FrozenClock
from bot.config import DEFAULT_DATA_DIR, Settings
from bot.db.models.core import ChannelAccount, Employee
from bot.metrics import Metrics
from bot.services.accounts import Scope
from bot.services.broadcasts import ChunkDeliverer, Content, make_plan, parse_audience, send
from bot.services.notices import DeliveryWorker
from bot.services.notices.quiet import QuietHours

NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Taipei


class Timer:
    """Wall-clock and this process's CPU seconds."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def fake_get(url: str, path: str) -> dict[str, int]:
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


async def populate(runtime: object, n: int) -> None:
    sessions = runtime.sessions  # type: ignore[attr-defined]
    async with sessions.begin() as s:
        people = [{"employee_no": f"B{i:06d}", "name": f"員工{i}", "agency": f"機關{i % 40:02d}", "unit": "",
                   "rank": "薦任", "is_supervisor": False, "gender": "F", "hire_date": date(2020, 1, 1), "email": None,
                   "active": True, "is_demo": False, "created_at": NOW, "updated_at": NOW} for i in range(n)]
        ids = list((await s.execute(insert(Employee).returning(Employee.id), people)).scalars())
        await s.execute(insert(ChannelAccount), [
            {"channel": "line", "external_id": f"U{i:032d}", "employee_id": eid,
             "lang": "en" if i % 10 == 0 else "zh-TW",
             "state": None, "state_data": {}, "reachable": True, "created_at": NOW, "last_seen_at": NOW}
            for i, eid in enumerate(ids)])


async def one_run(runtime: object, fake_url: str, content: Content, *, fail_rate: float) -> None:
    app = runtime.app  # type: ignore[attr-defined]
    sessions = runtime.sessions  # type: ignore[attr-defined]
    clock = runtime.clock  # type: ignore[attr-defined]
    fake_get(fake_url, "/__fake/reset")
    fake_get(fake_url, f"/__fake/fail_rate/{fail_rate}")
    client = LineClient("bench", fake_url)
    sender = LineSender(client, Metrics())
    chunks = ChunkDeliverer(sessions, clock, {"line": sender}, app.deps.notices.render, base_backoff=timedelta(0),
                            batch_size=60, concurrency=16)
    worker = DeliveryWorker(sessions, clock, {"line": sender}, batches=[chunks], base_backoff=timedelta(0),
                            batch_size=200, concurrency=16, max_attempts=50)
    chunks.max_attempts = 50
    try:
        with Timer() as timer:
            async with sessions.begin() as s:
                plan = await make_plan(s, parse_audience("all", app.rules), content, scope=Scope(city=True),
                                       rules=app.rules, today=NOW.date())
                sent = await send(s, plan, actor="bench", actor_employee_id=None, now=clock.now(),
                                  notifier=app.deps.notices, quiet=QuietHours())
            queued_cpu = time.process_time() - timer.cpu
            while await worker.run_once():
                pass
    finally:
        await client.close()
    seen = fake_get(fake_url, "/__fake/multicast")
    kind = "personalised (push)" if content.personalised else "identical (multicast)"
    if content.image_url:
        kind += f" with link and picture, {content.message_objects} messages each"
    print(f"  {kind}, {fail_rate:.0%} of calls failing: {plan.recipients:,} recipients, {sent.chunks} chunks; "
          f"{timer.wall:5.2f} s wall, {timer.cpu:5.2f} s CPU of ours")
    if not content.personalised:
        once = seen["unique"] == seen["recipients"] == plan.recipients
        print(f"    multicast calls made {seen['calls']} (accepted {seen['accepted_calls']}); recipients delivered "
              f"{seen['recipients']:,}, distinct {seen['unique']:,}: {'each exactly once' if once else 'NOT once'}; "
              f"target ≤ 60 calls {'OK' if seen['accepted_calls'] <= 60 else 'OVER'}"
              + (f", ≤ 1 s CPU {'OK' if timer.cpu <= 1 else 'OVER'}" if not fail_rate else ""))
    else:
        pushes = fake_get(fake_url, "/__fake/push")
        once = pushes["accepted"] == pushes["unique"] == plan.recipients
        print(f"    of which plan, render and queue {queued_cpu:.2f} s CPU, delivery {timer.cpu - queued_cpu:.2f} s")
        print(f"    push calls made {pushes['calls']:,} (accepted {pushes['accepted']:,} "
              f"to {pushes['unique']:,} users, 409 {pushes['conflicts']}): "
              f"{'each exactly once' if once else 'NOT once'}; "
              f"{timer.cpu / max(plan.recipients, 1) * 1e6:.0f} µs of CPU a recipient; "
              f"target ≤ 10 s CPU {'OK' if timer.cpu <= 10 else 'OVER'}")


async def measure(url: str, fake_url: str, n: int, personalised: bool) -> None:
    settings = Settings(database_url=url, data_dir=DEFAULT_DATA_DIR, plan_year=113, default_lang="zh-TW",
                        demo_employee_no="T0001")
    runtime = await build_app(settings, clock=FrozenClock(NOW), demo=False)
    try:
        await populate(runtime, n)
        await one_run(runtime, fake_url, Content("新班「數位思維」開放報名", "New class open"), fail_rate=0.0)
        await one_run(runtime, fake_url, Content("問卷結果已公布", "Survey results are out"), fail_rate=0.2)
        picture = "https://bot.example.tw/media/announcements/" + "a" * 64 + "/{}/sig.jpg"
        await one_run(runtime, fake_url, Content("新班「數位思維」開放報名，附海報", "New class open, with its poster",
                                                 link="https://elearn.example.tw/class/1", link_label="報名網頁",
                                                 image_url=picture.format("full"),
                                                 image_preview_url=picture.format("preview")), fail_rate=0.0)
        if personalised:
            await one_run(runtime, fake_url, Content("{name} 您好，必修時數尚未完成"), fail_rate=0.0)
    finally:
        await runtime.close()


ROOT = Path(__file__).resolve().parent.parent


def start_fake() -> tuple[subprocess.Popen[str], str]:
    """The fake LINE API in its own process, and its URL."""
    fake = subprocess.Popen([sys.executable, "-m", "tests.line.fake_line", "--port", "0"], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    assert fake.stdout is not None
    return fake, f"http://127.0.0.1:{fake.stdout.readline().split()[1]}"


async def main() -> None:
    parser = options(__doc__)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--skip-personalised", action="store_true")
    args = parser.parse_args()
    fake, fake_url = start_fake()
    try:
        print(f"{args.people:,} people; {machine()}")
        if args.only in (None, "sqlite"):
            async with scratch_sqlite() as (url, _path):
                print("SQLite:")
                await measure(url, fake_url, args.people, not args.skip_personalised)
        if args.only in (None, "postgres"):
            async with scratch_postgres() as pg_url:
                if pg_url is not None:
                    print("PostgreSQL:")
                    await measure(pg_url, fake_url, args.people, not args.skip_personalised)
    finally:
        fake.terminate()
        fake.wait(5)


if __name__ == "__main__":
    asyncio.run(main())
