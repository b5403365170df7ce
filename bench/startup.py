"""Start-up time (to a ready ``/healthz``, to the first chat answer), what it is spent on, and serving memory.

Run: .venv/bin/python bench/startup.py [--runs N] [--only hcipm] [--messages 10000] [--users 300]
                                       [--database-url URL] [--tracemalloc]

Sections (``--only`` picks some; default all):

  (h) ``abc-bot serve`` as a separate process with LINE credentials and the fake LINE API of the tests,
      timed from the process's start until ``GET /healthz`` answers 200: on a fresh SQLite file (the
      schema is created) with nothing cached yet, then ``--runs`` times on a fresh file with the intent
      model's cache kept, then ``--runs`` times on the same, already current database (a restart).
  (c) ``abc-bot chat`` (the console) with one message piped in, timed from the process's start until its
      first answer is on stdout: on a fresh file (schema and demo data created), then restarts.
  (i) ``python -X importtime`` of the serve and chat starts: self time summed per package.
  (p) the parts of a serve start, timed in one process (wall and CPU of each step of ``build_app``).
  (m) ``abc-bot serve`` receives ``--messages`` signed LINE webhooks (texts that search, ask for hours,
      open menus, and postbacks: tracks, categories, courses, hours), from ``--users`` users of whom half
      are linked to demo employees; VmRSS / VmHWM from /proc are printed as it goes. ``--tracemalloc``
      runs the same server inside this process and prints what grew between the warm-up and the end.

The machine is shared with other work, so every time is given as wall and as the child's CPU (user +
system from /proc/PID/stat at the moment it was ready; the whole run's from ``getrusage(RUSAGE_CHILDREN)``):
CPU is what start-up costs; wall shows what waiting for the other processes added. Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import machine  # noqa: E402
from tests.line import webhooks  # noqa: E402
from tests.line.fake_line import FakeLine  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a running process, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def children_cpu() -> float:
    """User + system CPU seconds of every child process reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bot_env(folder: Path, database_url: str, api: str | None, **extra: str) -> dict[str, str]:
    """The environment of a bot process: its database, its own caches and log, LINE when ``api`` is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TELEGRAM_", "DEMO_", "PYTHON"))}
    env.update(DATABASE_URL=database_url, MODEL_CACHE_DIR=str(folder / "cache"), LOG_FILE=str(folder / "bot.log"),
               MEDIA_DIR=str(folder / "media"), LOG_LEVEL="WARNING", SCHEDULER="on")
    if api is not None:
        env.update(LINE_CHANNEL_SECRET=webhooks.SECRET, LINE_CHANNEL_ACCESS_TOKEN=webhooks.TOKEN,
                   LINE_API_BASE_URL=api)
    env.update(extra)
    return env


@dataclass
class Timing:
    """One start: wall seconds to ready, the child's CPU seconds to ready, and for the whole run."""

    wall: float
    cpu: float
    total_cpu: float


def summary(label: str, runs: list[Timing]) -> str:
    """One printed row: the median of the runs (and their spread when there are several)."""
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    spread = (f"  (wall {min(r.wall for r in runs):.2f}–{max(r.wall for r in runs):.2f}, "
              f"CPU {min(r.cpu for r in runs):.2f}–{max(r.cpu for r in runs):.2f})") if len(runs) > 1 else ""
    total = statistics.median(r.total_cpu for r in runs)
    return (f"  {label:44s} wall {wall:5.2f} s   CPU to ready {cpu:5.2f} s   whole process CPU {total:5.2f} s"
            f"   n={len(runs)}{spread}")


# ---------------------------------------------------------------------------------------- (h) /healthz


async def healthz_ready(port: int, proc: subprocess.Popen[bytes], within: float = 120.0) -> None:
    """Poll ``GET /healthz`` every 10 ms until it answers 200."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2), trust_env=False) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode} before it was ready")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    raise RuntimeError("serve was not ready in time")


def start_serve(env: dict[str, str], port: int, *, python_flags: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """``python -m bot serve --port PORT`` (the same code as the ``abc-bot serve`` entry point).

    Its stderr goes to a temporary file (a pipe nobody reads would block ``-X importtime``); :func:`stop` reads it.
    """
    err = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
    proc = subprocess.Popen([sys.executable, *python_flags, "-m", "bot", "serve", "--port", str(port)], cwd=ROOT,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    STDERR[proc.pid] = err
    return proc


STDERR: dict[int, Any] = {}


def stop(proc: subprocess.Popen[bytes]) -> bytes:
    """SIGTERM, wait, and return what it wrote on stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    err = STDERR.pop(proc.pid)
    err.seek(0)
    data: bytes = err.read()
    err.close()
    return data


async def time_serve(env: dict[str, str]) -> Timing:
    """One serve start until /healthz answers 200; then stopped."""
    port = free_port()
    before = children_cpu()
    started = time.perf_counter()
    proc = start_serve(env, port)
    try:
        await healthz_ready(port, proc)
        wall = time.perf_counter() - started
        cpu = proc_cpu(proc.pid)
    finally:
        err = stop(proc)
    if proc.returncode:
        raise RuntimeError(f"serve exited with {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return Timing(wall, cpu, children_cpu() - before)


async def section_healthz(args: argparse.Namespace, folder: Path, fake: FakeLine) -> None:
    print("(h) abc-bot serve: process start -> GET /healthz answers 200")
    if args.database_url:
        env = bot_env(folder, args.database_url, fake.url)
        print(summary("given database", [await time_serve(env) for _ in range(args.runs)]))
        return
    first = await time_serve(bot_env(folder, f"sqlite:///{folder / 'h-first.sqlite3'}", fake.url))
    print(summary("fresh SQLite file, nothing cached (first start)", [first]))
    fresh = [await time_serve(bot_env(folder, f"sqlite:///{folder / f'h-fresh{i}.sqlite3'}", fake.url))
             for i in range(args.runs)]
    print(summary("fresh SQLite file, model cache kept", fresh))
    env = bot_env(folder, f"sqlite:///{folder / 'h-first.sqlite3'}", fake.url)
    print(summary("restart on a current database", [await time_serve(env) for _ in range(args.runs)]))


# ---------------------------------------------------------------------------------------- (c) chat


def time_chat(env: dict[str, str], message: str = "help") -> Timing:
    """One ``abc-bot chat`` with ``message`` piped in: start → first line of the answer on stdout."""
    before = children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{message}\n".encode())
    proc.stdin.flush()
    first = proc.stdout.readline()
    wall = time.perf_counter() - started
    cpu = proc_cpu(proc.pid)
    _, err = proc.communicate(timeout=60)  # closes stdin: the chat ends
    if proc.returncode or not first.strip():
        raise RuntimeError(f"chat exited with {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return Timing(wall, cpu, children_cpu() - before)


def section_chat(args: argparse.Namespace, folder: Path) -> None:
    print("(c) abc-bot chat: process start -> first line of the answer to 'help' (DEMO_TODAY=2024-03-01)")
    demo = {"DEMO_TODAY": "2024-03-01"}
    if args.database_url:
        env = bot_env(folder, args.database_url, None, **demo)
        print(summary("given database", [time_chat(env) for _ in range(args.runs)]))
        return
    cold = folder / "c-cold"
    cold.mkdir()
    first = time_chat(bot_env(cold, f"sqlite:///{cold / 'first.sqlite3'}", None, **demo))
    print(summary("fresh SQLite file, nothing cached (first start)", [first]))
    fresh = [time_chat(bot_env(folder, f"sqlite:///{folder / f'c-fresh{i}.sqlite3'}", None, **demo))
             for i in range(args.runs)]
    print(summary("fresh SQLite file (schema + demo data), cache kept", fresh))
    env = bot_env(folder, f"sqlite:///{folder / 'c-fresh0.sqlite3'}", None, **demo)
    print(summary("restart on a current database", [time_chat(env) for _ in range(args.runs)]))


# ---------------------------------------------------------------------------------------- (i) importtime


def group_of(module: str) -> str:
    """The package an imported module is counted under: ``bot.services.x``, ``handlers``, or its top level."""
    parts = module.split(".")
    if parts[0] == "bot" and len(parts) > 2 and parts[1] in ("services", "db", "channels", "commands"):
        return ".".join(parts[:3])
    if parts[0] == "bot" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def importtime_table(stderr: str, top: int) -> list[str]:
    """Self time per package from ``-X importtime`` lines, the biggest first."""
    self_us: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line[len("import time:"):].split("|")
        own, name = int(fields[0]), fields[2].strip()
        self_us[group_of(name)] += own
        count[group_of(name)] += 1
    total = sum(self_us.values())
    rows = [f"    {'all imports':28s} {total / 1000:7.0f} ms  ({sum(count.values())} modules)"]
    for group, us in sorted(self_us.items(), key=lambda kv: -kv[1])[:top]:
        rows.append(f"    {group:28s} {us / 1000:7.0f} ms  ({count[group]} modules)")
    return rows


async def section_importtime(args: argparse.Namespace, folder: Path, fake: FakeLine) -> None:
    print("(i) python -X importtime: self time per package (importtime itself adds to every figure)")
    database = f"sqlite:///{folder / 'i.sqlite3'}"
    env = bot_env(folder, database, fake.url)
    port = free_port()
    warm = start_serve(env, port)  # creates the schema and the model cache: what follows is a restart
    await healthz_ready(port, warm)
    stop(warm)
    port = free_port()
    proc = start_serve(env, port, python_flags=("-X", "importtime"))
    await healthz_ready(port, proc)
    err = stop(proc).decode(errors="replace")
    print("  serve (restart, ready /healthz):")
    print("\n".join(importtime_table(err, args.top)))
    env = bot_env(folder, f"sqlite:///{folder / 'i-chat.sqlite3'}", None, DEMO_TODAY="2024-03-01")
    time_chat(env)
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "chat"], cwd=ROOT, env=env,  # noqa: ASYNC221
                         input=b"help\n", capture_output=True, timeout=120, check=True)
    print("  chat (restart, one answer):")
    print("\n".join(importtime_table(run.stderr.decode(errors="replace"), args.top)))


# ---------------------------------------------------------------------------------------- (p) parts

PARTS = r'''
import asyncio, gc, json, sys, time
gc.disable()  # as bot.cli.main does
started = (time.perf_counter(), time.process_time())
parts = []

def mark(name, since):
    parts.append((name, time.perf_counter() - since[0], time.process_time() - since[1]))
    return (time.perf_counter(), time.process_time())

t = (time.perf_counter(), time.process_time())
import bot.web, bot.bootstrap, bot.cli
t = mark("import bot.cli, bot.web, bot.bootstrap (module level)", t)
from bot import bootstrap
from bot.config import load_settings
settings = load_settings()

def timed(owner, attr, label):
    original = getattr(owner, attr)
    def wrapper(*a, **k):
        t = (time.perf_counter(), time.process_time())
        try:
            return original(*a, **k)
        finally:
            parts.append((label, time.perf_counter() - t[0], time.process_time() - t[1]))
    async def awrapper(*a, **k):
        t = (time.perf_counter(), time.process_time())
        try:
            return await original(*a, **k)
        finally:
            parts.append((label, time.perf_counter() - t[0], time.process_time() - t[1]))
    setattr(owner, attr, awrapper if asyncio.iscoroutinefunction(original) else wrapper)

from bot.db import migrate
from bot.intents import IntentRecognizer
from bot.texts import MessageCatalog
import handlers
timed(bootstrap, "load_app", "load_app (every data file, texts, intents, search index)")
timed(bootstrap, "load_catalog", "  load_catalog")
timed(bootstrap, "load_rules", "  load_rules")
timed(IntentRecognizer, "load", "  IntentRecognizer.load (intents.yaml, model)")
timed(MessageCatalog, "load", "  MessageCatalog.load (texts/*.yaml)")
timed(bootstrap, "SearchEngine", "  SearchEngine (the search index)")
timed(bootstrap, "certificate_deps", "  certificate_deps")
timed(handlers, "build_routes", "build_routes (handlers)")
timed(bootstrap, "create_engine", "create_engine")
timed(bootstrap, "prepare_database", "prepare_database (migrate check, catalog mirror)")
timed(migrate, "current_revisions", "  migrate.current_revisions")
timed(migrate, "head_revisions", "  migrate.head_revisions")
timed(migrate, "upgrade", "  migrate.upgrade")

async def main():
    from bot.web import build_server, freeze_startup_objects
    t = (time.perf_counter(), time.process_time())
    runtime = await bootstrap.build_app(settings, settle=False)  # as serve does
    t = mark("build_app (all of the above)", t)
    server = await build_server(runtime)
    t = mark("build_server (channels: the LINE SDK, the outbox worker)", t)
    freeze_startup_objects()
    t = mark("freeze_startup_objects (gc.collect + gc.freeze)", t)
    await server.start("127.0.0.1", 0)
    t = mark("server.start (channels start, listen)", t)
    await server._select_one()
    t = mark("first /healthz query", t)
    parts.append(("total since the interpreter ran this script", time.perf_counter() - started[0],
                  time.process_time() - started[1]))
    await server.stop()
    await runtime.close()

asyncio.run(main())
print(json.dumps(parts))
'''


def section_parts(args: argparse.Namespace, folder: Path, fake: FakeLine) -> None:
    import json

    print("(p) the parts of a serve start, in one process (wall / CPU; a part includes the imports it triggers)")
    for label, database in (("fresh SQLite file", f"sqlite:///{folder / 'p-fresh.sqlite3'}"),
                            ("restart on a current database", f"sqlite:///{folder / 'p-fresh.sqlite3'}")):
        env = bot_env(folder, args.database_url or database, fake.url)
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", PARTS], cwd=ROOT, env=env, capture_output=True, timeout=120)
            if out.returncode:
                raise RuntimeError(out.stderr.decode(errors="replace")[-2000:])
            runs.append(json.loads(out.stdout.decode().splitlines()[-1]))
            if label == "fresh SQLite file" and not args.database_url:
                (folder / "p-fresh.sqlite3").unlink()
        if label == "fresh SQLite file" and not args.database_url:  # leave one for the restart
            subprocess.run([sys.executable, "-c", PARTS], cwd=ROOT, env=env, capture_output=True, timeout=120)
        print(f"  {label} (median of {len(runs)}):")
        for i, (name, _, _) in enumerate(runs[0]):
            wall = statistics.median(run[i][1] for run in runs)
            cpu = statistics.median(run[i][2] for run in runs)
            print(f"    {name:62s} {wall * 1000:7.0f} ms  CPU {cpu * 1000:6.0f} ms")


# ---------------------------------------------------------------------------------------- (m) memory


def message_plan(rng: random.Random, users: list[str], count: int) -> list[tuple[str, str, str]]:
    """(user, kind, value) for ``count`` events: searches, hours, menus and postbacks, shuffled."""
    from bot.config import DEFAULT_DATA_DIR
    from bot.services.catalog import load_catalog
    from handlers.browse import ShowCategory, ShowTrack
    from handlers.common import MyEnrollments, ShowHelp, ShowHours, ShowItem, ShowTracks

    catalog = load_catalog(DEFAULT_DATA_DIR, 113)
    queries = [str(q["query"]) for q in yaml.safe_load(
        (ROOT / "tests" / "data" / "search_queries.yaml").read_text(encoding="utf-8"))]
    hours = ["時數", "我還差幾小時", "查時數", "hours"]
    menus = ["選單", "課程", "help", "主選單", "English", "中文", "A", "B", "C", "我的報名"]
    postbacks = [ShowTracks().pack(), ShowHelp().pack(), ShowHours().pack(), MyEnrollments().pack(),
                 *(ShowTrack(t.id).pack() for t in catalog.tracks.values()),
                 *(ShowCategory(c.id).pack() for t in catalog.tracks.values() for c in t.categories)]
    items = [ShowItem(item.id).pack() for item in catalog]
    plan = []
    for _ in range(count):
        user = rng.choice(users)
        roll = rng.random()
        if roll < 0.40:
            plan.append((user, "text", rng.choice(queries)))
        elif roll < 0.55:
            plan.append((user, "text", rng.choice(hours)))
        elif roll < 0.70:
            plan.append((user, "text", rng.choice(menus)))
        elif roll < 0.85:
            plan.append((user, "postback", rng.choice(postbacks)))
        else:
            plan.append((user, "postback", rng.choice(items)))
    return plan


async def send_all(fake: FakeLine, url: str, plan: list[tuple[str, str, str]], connections: int,
                   on_progress: Any = None, every: int = 2000) -> tuple[int, int, float]:
    """Closed loop: each connection posts a signed event and waits for its reply at the fake LINE API."""
    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[None]] = {}

    def on_reply(token: str) -> None:
        future = waiting.pop(token, None)
        if future is not None and not future.done():
            future.set_result(None)

    fake.on_reply = on_reply
    requests = []
    for user, kind, value in plan:
        event = webhooks.text(user, value) if kind == "text" else webhooks.postback(user, value)
        raw = webhooks.body(event)
        requests.append((event["replyToken"], raw, {"X-Line-Signature": webhooks.sign(raw),
                                                    "Content-Type": "application/json"}))
    done = errors = 0
    next_index = 0
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections * 2),
                                     trust_env=False) as http:
        async def client() -> None:
            nonlocal next_index, done, errors
            while next_index < len(requests):
                token, raw, headers = requests[next_index]
                next_index += 1
                future: asyncio.Future[None] = loop.create_future()
                waiting[token] = future
                try:
                    async with http.post(url, data=raw, headers=headers) as resp:
                        await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(resp.status)
                    await asyncio.wait_for(future, 30)
                    done += 1
                except Exception:
                    errors += 1
                    waiting.pop(token, None)
                if on_progress is not None and (done + errors) % every == 0:
                    on_progress(done + errors)

        await asyncio.gather(*(client() for _ in range(connections)))
    fake.on_reply = None
    return done, errors, time.perf_counter() - started


async def link_half(database_url: str, users: list[str]) -> int:
    """Link every other bench user's LINE account to a demo employee (so hours and enrollments do real work)."""
    from sqlalchemy import text

    from bot.db.engine import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            ids = [row[0] for row in await conn.execute(text("SELECT id FROM employees ORDER BY id"))]
            linked = 0
            for i, user in enumerate(users[::2]):
                result = await conn.execute(
                    text("UPDATE channel_accounts SET employee_id = :e WHERE channel = 'line' AND external_id = :u"),
                    {"e": ids[i % len(ids)], "u": user})
                linked += result.rowcount
            return linked
    finally:
        await engine.dispose()


def seed_demo(env: dict[str, str]) -> None:
    """``abc-bot db seed --demo``: schema, catalog mirror and the demo people."""
    subprocess.run([sys.executable, "-m", "bot", "db", "seed", "--demo"], cwd=ROOT, env=env,
                   capture_output=True, timeout=300, check=True)


async def section_memory(args: argparse.Namespace, folder: Path, fake: FakeLine) -> None:
    print(f"(m) abc-bot serve, RSS while it answers {args.messages} signed LINE webhooks "
          f"({args.users} users, half linked; {args.connections} connections)")
    database = args.database_url or f"sqlite:///{folder / 'm.sqlite3'}"
    env = bot_env(folder, database, fake.url, SCHEDULER="off")
    seed_demo(env)
    rng = random.Random(15)
    users = [webhooks.user_id(f"startup-{i}") for i in range(args.users)]
    plan = message_plan(rng, users, args.messages)
    if args.tracemalloc:
        await memory_in_process(args, env, fake, users, plan)
        return
    port = free_port()
    proc = start_serve(env, port)
    url = f"http://127.0.0.1:{port}/webhooks/line"
    try:
        await healthz_ready(port, proc)
        print(f"    ready:                 {fmt_memory(proc_memory(proc.pid))}")
        await send_all(fake, url, [(u, "text", "help") for u in users], args.connections)
        linked = await link_half(database, users)
        print(f"    after {len(users)} first messages: {fmt_memory(proc_memory(proc.pid))}  ({linked} accounts linked)")
        cpu = proc_cpu(proc.pid)

        def progress(n: int) -> None:
            print(f"    after {n:6d} messages:  {fmt_memory(proc_memory(proc.pid))}", flush=True)

        done, errors, seconds = await send_all(fake, url, plan, args.connections, progress)
        cpu = proc_cpu(proc.pid) - cpu
        print(f"    end:                   {fmt_memory(proc_memory(proc.pid))}")
        per = cpu / max(done, 1) * 1000
        print(f"    {done} answered, {errors} errors, {seconds:.1f} s wall, server CPU {per:.2f} ms per message")
    finally:
        stop(proc)


def fmt_memory(values: dict[str, int]) -> str:
    """VmRSS and VmHWM in MB."""
    return f"VmRSS {values['VmRSS'] / 1024:6.1f} MB   VmHWM {values['VmHWM'] / 1024:6.1f} MB"


async def memory_in_process(args: argparse.Namespace, env: dict[str, str], fake: FakeLine, users: list[str],
                            plan: list[tuple[str, str, str]]) -> None:
    """The same server in this process, with tracemalloc: what the messages left behind, by line."""
    import gc
    import tracemalloc

    os.environ.update(env)
    from bot.bootstrap import build_app
    from bot.config import load_settings
    from bot.web import build_server

    runtime = await build_app(load_settings())
    server = await build_server(runtime)
    keep = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "*/bench/*", all_frames=True),
            tracemalloc.Filter(False, "*/tests/*", all_frames=True),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]

    def snapshot() -> tracemalloc.Snapshot:
        gc.collect()
        return tracemalloc.take_snapshot().filter_traces(keep)

    await server.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.port}/webhooks/line"
    try:
        await send_all(fake, url, [(u, "text", "help") for u in users], args.connections)
        await link_half(env["DATABASE_URL"], users)
        tracemalloc.start(5)
        fifth = len(plan) // 5
        await send_all(fake, url, plan[:fifth], args.connections)  # the caches fill here
        snapshots = [snapshot()]
        await send_all(fake, url, plan[fifth:3 * fifth], args.connections)
        snapshots.append(snapshot())
        await send_all(fake, url, plan[3 * fifth:], args.connections)
        snapshots.append(snapshot())
        first, second = (b.compare_to(a, "traceback") for a, b in itertools.pairwise(snapshots))
        print(f"    tracemalloc (bot and libraries; the bench and the fake LINE API left out): after a warm-up of "
              f"{fifth} messages, {sum(d.size_diff for d in first) / 1024:+.0f} KiB over the next {2 * fifth}, "
              f"{sum(d.size_diff for d in second) / 1024:+.0f} KiB over the {len(plan) - 3 * fifth} after them; "
              "what grew in the last part:")
        for stat in second[: args.top]:
            frame = stat.traceback[-1]
            print(f"      {stat.size_diff / 1024:8.1f} KiB {stat.count_diff:+7d} blocks  "
                  f"{frame.filename}:{frame.lineno}")
            for deeper in list(stat.traceback)[-2:-5:-1]:
                print(f"               from {deeper.filename}:{deeper.lineno}")
    finally:
        await server.stop()
        await runtime.close()


# ---------------------------------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    print(machine())
    print(f"python {sys.version.split()[0]}; figures are medians of {args.runs} runs unless said otherwise")
    fake = await FakeLine(record=False).start()
    folder = Path(tempfile.mkdtemp(prefix="abc-startup-"))
    for part in "hcipm":
        (folder / part).mkdir()
    try:
        if "h" in args.only:
            await section_healthz(args, folder / "h", fake)
        if "c" in args.only:
            section_chat(args, folder / "c")
        if "i" in args.only:
            await section_importtime(args, folder / "i", fake)
        if "p" in args.only:
            section_parts(args, folder / "p", fake)
        if "m" in args.only:
            await section_memory(args, folder / "m", fake)
    finally:
        await fake.stop()
        shutil.rmtree(folder, ignore_errors=True)


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="hcipm", help="sections: h (healthz) c (chat) i (importtime) "
                                                        "p (parts) m (memory)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--top", type=int, default=15, help="rows of the importtime and tracemalloc tables")
    parser.add_argument("--database-url", help="measure against this database instead of fresh SQLite files")
    parser.add_argument("--tracemalloc", action="store_true", help="(m) in this process, with tracemalloc")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
