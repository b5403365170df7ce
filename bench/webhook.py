"""Webhook throughput and latency: a bare aiohttp yardstick against ``abc-bot serve`` doing real work.

Run: .venv/bin/python bench/webhook.py [--rounds R] [--events N] [--connections C] [--users U]
                                       [--database-url URL] [--only asbc] [--py-spy FILE]

In one run, on this machine:
  (a) yardstick: a bare aiohttp endpoint (another process) that checks the signature, answers 200 and
      sends one plain reply to the fake LINE API with a plain aiohttp client (no SDK, no database);
  (s) for reference, the SDK's echo example shape (WebhookParser, SDK models and client, no work);
  (b) ``abc-bot serve`` (another process): signature, SDK parser, user lookup, state, intent, search,
      database transaction, rendering, SDK reply;
  (c) two ``abc-bot serve`` processes on two ports, the load generator alternating between them.

The load generator and the fake LINE API share this process. Each of C connections is a user waiting
for the bot: it posts a signed text event and sends its next one only when the reply for the previous
one has reached the fake LINE API. Latency is that whole round (webhook posted → reply at LINE), so
"answer 200 at once, work later" cannot hide queued work; req/s counts completed replies.
Texts are realistic: the search quality queries (typos, English, simplified characters) and menu
commands, from U users. A warm-up round (every user's first message, creating accounts) is not counted.
Bodies are built and signed before the clock starts; the generator's own CPU per event is printed too.
On a shared 2-CPU machine figures move by 10-15 % between runs: ``--rounds 3`` interleaves three
measurements of every scenario and shows the median.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.line import webhooks  # noqa: E402
from tests.line.fake_line import FakeLine  # noqa: E402

COMMANDS = ["課程", "選單", "help", "時數", "我的報名", "A", "B", "C", "English", "中文"]


# ---------------------------------------------------------------------------------------- (a) yardstick


async def yardstick(port: int, api: str, secret: str) -> None:
    """The bare endpoint: signature check, 200, one plain reply POST (no SDK, no database)."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50), trust_env=False)
    key = secret.encode()
    tasks: set[asyncio.Task[None]] = set()

    async def reply(token: str) -> None:
        body = {"replyToken": token, "messages": [{"type": "text", "text": "收到"}]}
        async with session.post(f"{api}/v2/bot/message/reply", json=body,
                                headers={"Authorization": "Bearer x"}) as resp:
            await resp.read()

    async def handler(request: web.Request) -> web.Response:
        raw = await request.read()
        expected = base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, request.headers.get("X-Line-Signature", "").encode()):
            return web.Response(status=400)
        for event in json.loads(raw)["events"]:
            task = asyncio.create_task(reply(event["replyToken"]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return web.Response(text="OK")

    await serve_until_term(port, handler)
    await session.close()


async def sdk_echo(port: int, api: str, secret: str) -> None:
    """The reference of the issue: the SDK's aiohttp echo shape (WebhookParser, models, AsyncMessagingApi).

    No database and no work: parse with the SDK, answer a text event with the same text through the
    SDK's client (its own session, as the SDK makes it), then 200.
    """
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        Configuration,
        ReplyMessageRequest,
        TextMessage,
    )
    from linebot.v3.webhooks import MessageEvent, TextMessageContent

    client = AsyncApiClient(Configuration(access_token="x", host=api))
    messaging = AsyncMessagingApi(client)
    parser = WebhookParser(secret)

    async def handler(request: web.Request) -> web.Response:
        body = (await request.read()).decode()
        try:
            events = parser.parse(body, request.headers.get("X-Line-Signature", ""))
        except InvalidSignatureError:
            return web.Response(status=400)
        for event in events:
            if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                await messaging.reply_message(ReplyMessageRequest(
                    reply_token=event.reply_token, messages=[TextMessage(text=event.message.text)]))
        return web.Response(text="OK")

    await serve_until_term(port, handler)
    await client.close()


async def serve_until_term(port: int, handler: Callable[[web.Request], Awaitable[web.Response]]) -> None:
    """Serve ``handler`` at /webhooks/line on ``port`` until SIGTERM; print READY once listening."""
    app = web.Application()
    app.router.add_post("/webhooks/line", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("READY", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


# ---------------------------------------------------------------------------------------- processes


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(proc: asyncio.subprocess.Process, marker: str, within: float = 60.0) -> None:
    """Read the process's stderr/stdout until ``marker`` appears."""
    assert proc.stderr is not None

    async def scan() -> None:
        assert proc.stderr is not None
        while True:
            line = await proc.stderr.readline()
            if not line:
                raise RuntimeError("server exited before it was ready")
            if marker in line.decode(errors="replace"):
                return

    await asyncio.wait_for(scan(), within)


async def drain_stderr(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    while await proc.stderr.readline():
        pass


@dataclass
class Server:
    """Server processes under test and the URLs of their webhooks."""

    procs: list[asyncio.subprocess.Process]
    urls: list[str]
    drains: list[asyncio.Task[None]]

    async def stop(self) -> None:
        """SIGTERM every process and wait for it."""
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            await asyncio.wait_for(proc.wait(), 30)
        for task in self.drains:
            task.cancel()


def bot_env(api: str, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TELEGRAM_"))}
    env.update(DATABASE_URL=database_url, LINE_CHANNEL_SECRET=webhooks.SECRET,
               LINE_CHANNEL_ACCESS_TOKEN=webhooks.TOKEN, LINE_API_BASE_URL=api, LOG_LEVEL="WARNING")
    return env


async def start_bot(count: int, api: str, database_url: str) -> Server:
    procs, urls, drains = [], [], []
    for _ in range(count):
        port = free_port()
        env = bot_env(api, database_url) | {"LOG_LEVEL": "INFO"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", "--port", str(port), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        await wait_ready(proc, "listening on")
        drains.append(asyncio.create_task(drain_stderr(proc)))
        procs.append(proc)
        urls.append(f"http://127.0.0.1:{port}/webhooks/line")
    return Server(procs, urls, drains)


async def start_yardstick(api: str, kind: str = "yardstick") -> Server:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, f"--{kind}", "--port", str(port), "--api", api, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if b"READY" not in line:
        raise RuntimeError("yardstick did not start")
    return Server([proc], [f"http://127.0.0.1:{port}/webhooks/line"], [asyncio.create_task(drain_stderr(proc))])


# ---------------------------------------------------------------------------------------- load


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class Result:
    """One scenario's figures."""

    label: str
    completed: int
    seconds: float
    latencies: list[float]
    errors: int
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def rps(self) -> float:
        """Completed events per second."""
        return self.completed / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """The q-quantile of latency in ms."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    def line(self) -> str:
        """The printed row."""
        cpu = self.server_cpu / self.completed * 1000 if self.completed else 0.0
        load_cpu = self.client_cpu / self.completed * 1000 if self.completed else 0.0
        return (f"{self.label:34s} {self.rps:8.0f} req/s   p50 {self.pct(0.5):6.1f} ms   p99 {self.pct(0.99):6.1f} ms"
                f"   server CPU {cpu:5.2f} ms/event   (load generator {load_cpu:4.2f})"
                f"   ({self.completed} events, {self.errors} errors)")


def texts(rng: random.Random) -> list[str]:
    queries = [str(q["query"]) for q in yaml.safe_load(
        (ROOT / "tests" / "data" / "search_queries.yaml").read_text(encoding="utf-8"))]
    return queries * 3 + COMMANDS * 10


async def load(label: str, fake: FakeLine, urls: list[str], users: list[str], plan: list[tuple[int, str]],
               connections: int) -> Result:
    """Closed loop: each connection posts an event and waits for its reply at the fake API."""
    waiting: dict[str, asyncio.Future[float]] = {}
    loop = asyncio.get_running_loop()

    def on_reply(token: str) -> None:
        future = waiting.pop(token, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    fake.on_reply = on_reply
    latencies: list[float] = []
    errors = 0
    next_index = 0
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections * 2), trust_env=False)
    # Bodies are built and signed before the clock starts: the generator shares the CPUs with the
    # servers, and its own work is not what is measured.
    requests = []
    for user_index, message in plan:
        event = webhooks.text(users[user_index], message)
        raw = webhooks.body(event)
        requests.append((event["replyToken"], raw, {"X-Line-Signature": webhooks.sign(raw),
                                                    "Content-Type": "application/json"}))

    async def client(number: int) -> None:
        nonlocal next_index, errors
        url = urls[number % len(urls)]
        while next_index < len(requests):
            token, raw, headers = requests[next_index]
            next_index += 1
            future: asyncio.Future[float] = loop.create_future()
            waiting[token] = future
            started = time.perf_counter()
            try:
                async with session.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(resp.status)
                arrived = await asyncio.wait_for(future, 30)
            except Exception:
                errors += 1
                waiting.pop(token, None)
                continue
            latencies.append(arrived - started)

    started = time.perf_counter()
    own_cpu = time.process_time()
    await asyncio.gather(*(client(i) for i in range(connections)))
    elapsed = time.perf_counter() - started
    own_cpu = time.process_time() - own_cpu
    await session.close()
    fake.on_reply = None
    return Result(label, len(latencies), elapsed, latencies, errors, client_cpu=own_cpu)


async def prepare_database(url: str | None, folder: Path) -> str:
    database_url = url or f"sqlite:///{folder / 'bench.sqlite3'}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "seed", "--demo", cwd=ROOT, env=bot_env("http://127.0.0.1:9", database_url),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(err.decode())
    return database_url


LABELS = {"a": "(a) bare aiohttp + plain reply", "s": "(s) SDK echo, no work (reference)",
          "b": "(b) abc-bot serve", "c": "(c) abc-bot serve x2 processes"}


async def measure(key: str, fake: FakeLine, users: list[str], plan: list[tuple[int, str]], args: argparse.Namespace,
                  database_urls: dict[str, str], profile: str | None) -> Result:
    """Start the scenario's server(s), warm up (every user's first message), measure, stop."""
    if key in ("a", "s"):
        server = await start_yardstick(fake.url, "yardstick" if key == "a" else "sdk-echo")
    else:
        server = await start_bot(1 if key == "b" else 2, fake.url, database_urls[key])
    profiler = None
    try:
        await load("warm-up", fake, server.urls, users, [(i, "help") for i in range(len(users))], args.connections)
        if profile:
            profiler = await asyncio.create_subprocess_exec(
                "py-spy", "record", "--format", "raw", "-o", profile, "--pid", str(server.procs[0].pid),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        pids = [p.pid for p in server.procs]
        before = cpu_seconds(pids)
        result = await load(LABELS[key], fake, server.urls, users, plan, args.connections)
        result.server_cpu = cpu_seconds(pids) - before
        return result
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            await profiler.wait()
        await server.stop()


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    pool = texts(rng)
    users = [webhooks.user_id(f"bench-{i}") for i in range(args.users)]
    plan = [(rng.randrange(len(users)), rng.choice(pool)) for _ in range(args.events)]
    fake = await FakeLine(record=False).start()
    folder = Path(tempfile.mkdtemp(prefix="abc-bench-"))
    keys = [k for k in "asbc" if k in args.only]
    print(f"{args.events} events from {args.users} users, {args.connections} connections, {os.cpu_count()} CPUs, "
          f"{args.rounds} round(s), median shown; latency = webhook posted -> reply received by the fake LINE API")
    try:
        database_urls = {k: await prepare_database(args.database_url, folder / k) for k in keys if k in "bc"}
        runs: dict[str, list[Result]] = {k: [] for k in keys}
        for round_no in range(args.rounds):  # rounds interleave the scenarios: drift hits them alike
            for key in keys:
                profile = f"{args.py_spy}.{key}" if args.py_spy and round_no == 0 and key in "bc" else None
                runs[key].append(await measure(key, fake, users, plan, args, database_urls, profile))
                if args.rounds > 1:
                    print(f"  round {round_no + 1}: {runs[key][-1].line()}", flush=True)
        results = {k: sorted(v, key=lambda r: r.rps)[len(v) // 2] for k, v in runs.items()}
        for key in keys:
            print(results[key].line(), flush=True)
        if not {"a", "b", "c"} <= set(results):
            return
        a, b, c = results["a"], results["b"], results["c"]
        db = "SQLite" if "sqlite" in (args.database_url or "sqlite") else "PostgreSQL"
        print(f"database: {db}")
        if "s" in results:
            print(f"s/a = {results['s'].rps / a.rps:.2f}   (the SDK's echo shape, for reference)")
        print(f"b/a = {b.rps / a.rps:.2f}   (goal >= 0.45)")
        print(f"p99 of b at {args.connections} connections = {b.pct(0.99):.1f} ms   (goal <= 50 ms)")
        print(f"two processes / one = {c.rps / b.rps:.2f}x   (goal >= 1.3x)")
    finally:
        await fake.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--database-url", help="default: a fresh SQLite file per scenario")
    parser.add_argument("--only", default="asbc", help="scenarios to run (default asbc)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each scenario this many times, interleaved, and show the median (try 3)")
    parser.add_argument("--py-spy", metavar="FILE",
                        help="profile the (first) server process with py-spy into FILE.<b|c>")
    parser.add_argument("--yardstick", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sdk-echo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.yardstick:
        asyncio.run(yardstick(arguments.port, arguments.api, webhooks.SECRET))
    elif arguments.sdk_echo:
        asyncio.run(sdk_echo(arguments.port, arguments.api, webhooks.SECRET))
    else:
        asyncio.run(main(arguments))
