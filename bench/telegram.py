"""Telegram throughput: ``abc-bot serve``'s Telegram path doing real work against PTB's own minimal echo.

Run: .venv/bin/python bench/telegram.py [--rounds R] [--updates N] [--connections C] [--users U]

In one run, on this machine:
  (e) echo: python-telegram-bot's minimal echo in another process: an aiohttp endpoint that checks the
      secret token, ``Update.de_json`` and ``await Application.process_update(update)``, whose one
      ``MessageHandler`` answers ``await update.message.reply_text(update.message.text)`` (no database);
  (b) ``abc-bot serve`` (another process, SQLite): secret token, PTB parsing, the update_id claim,
      per-user queue, user lookup, state, intent, search, database transaction, rendering, sendMessage
      through PTB with an inline keyboard.

The load generator and the fake Bot API share this process. Each of C connections is a user waiting for
the bot: it posts an update and sends its next one only when the answer reached the fake Bot API, so
"answer 200 at once, work later" cannot hide queued work; updates/s counts completed answers. Texts are
the menu commands and course searches of bench/webhook.py, from U users; a warm-up round (every user's
first message: the accounts are created) is not counted. ``--rounds 3`` interleaves the scenarios and
prints medians (figures move by 10-15 % between runs on a shared 2-CPU machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path and its name would hide the telegram package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from tests.telegram import updates as up  # noqa: E402
from tests.telegram.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

TEXTS = ["課程", "選單", "help", "時數", "python", "時間管理", "區塊鏈", "power bi", "English", "中文", "A", "B"]


# ---------------------------------------------------------------------------------------- (e) echo


async def echo_server(port: int, api: str) -> None:
    """PTB's minimal echo behind an aiohttp webhook (the yardstick)."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    application = (Application.builder().token(TOKEN).updater(None).base_url(f"{api}/bot")
                   .base_file_url(f"{api}/file/bot").build())

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application.add_handler(MessageHandler(filters.TEXT, echo))

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != up.SECRET:
            return web.Response(status=403)
        await application.process_update(Update.de_json(await request.json(), application.bot))
        return web.Response(text="OK")

    async with application:
        app = web.Application()
        app.router.add_post("/webhooks/telegram", webhook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("READY", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()


# ---------------------------------------------------------------------------------------- load


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str, proc: asyncio.subprocess.Process, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError("the server exited")
            try:
                async with http.post(url, data=b"{}", headers={"X-Telegram-Bot-Api-Secret-Token": "x"}) as r:
                    if r.status in (200, 400, 403):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def load(url: str, fake: FakeTelegram, *, updates: int, connections: int, users: int,
               warm: bool) -> tuple[float, float]:
    """Closed-loop clients; returns (updates/s, p99 seconds)."""
    waiting: dict[int, asyncio.Future[None]] = {}

    def sent(chat: int) -> None:
        future = waiting.pop(chat, None)
        if future is not None and not future.done():
            future.set_result(None)

    fake.on_send = sent
    rng = random.Random(7)
    user_ids = [700_000 + n for n in range(users)]
    bodies = [json.dumps(up.text(uid, TEXTS[rng.randrange(len(TEXTS))])).encode() for uid in user_ids] if warm else [
        json.dumps(up.text(user_ids[n % users], TEXTS[rng.randrange(len(TEXTS))])).encode() for n in range(updates)]
    latencies: list[float] = []
    headers = {"X-Telegram-Bot-Api-Secret-Token": up.SECRET, "Content-Type": "application/json"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            chat = json.loads(body)["message"]["chat"]["id"]
            while chat in waiting:  # one question at a time per user
                await waiting[chat]
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiting[chat] = future
            started = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 200, response.status
            await asyncio.wait_for(future, 30)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as http:
        await asyncio.gather(*(client(http) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return len(bodies) / elapsed, latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0


async def scenario(name: str, fake: FakeTelegram, args: argparse.Namespace,
                   workdir: Path) -> tuple[float, float, float]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TELEGRAM_", "DATABASE_URL"))}
    if name == "e":
        cmd = [sys.executable, __file__, "--echo-server", str(port), "--api", fake.url]
    else:
        database = workdir / f"bench-{time.monotonic_ns()}.sqlite3"
        env.update({"DATABASE_URL": f"sqlite:///{database}", "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_WEBHOOK_SECRET": up.SECRET, "TELEGRAM_API_BASE_URL": fake.url, "LOG_LEVEL": "WARNING"})
        cmd = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
    log = (workdir / f"{name}.log").open("wb")  # closed below
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/webhooks/telegram"
    try:
        await wait_ready(url, proc)
        await load(url, fake, updates=args.updates, connections=args.connections, users=args.users, warm=True)
        cpu = cpu_seconds(proc.pid)
        rate, p99 = await load(url, fake, updates=args.updates, connections=args.connections, users=args.users,
                               warm=False)
        return rate, p99, (cpu_seconds(proc.pid) - cpu) / args.updates
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await proc.wait()
        log.close()
        if proc.returncode not in (0, -signal.SIGTERM):
            print((workdir / f"{name}.log").read_text()[-3000:], file=sys.stderr)


async def main(args: argparse.Namespace) -> None:
    fake = await FakeTelegram(record=False).start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-telegram-"))
    results: dict[str, list[tuple[float, float, float]]] = {"e": [], "b": []}
    try:
        for _ in range(args.rounds):
            for name in results:
                results[name].append(await scenario(name, fake, args, workdir))
    finally:
        await fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{args.updates} updates from {args.users} users, {args.connections} connections, "
          f"median of {args.rounds} round(s)")
    labels = {"e": "(e) PTB echo (process_update, no work)", "b": "(b) abc-bot serve, Telegram, SQLite"}
    medians, cpus = {}, {}
    for name, runs in results.items():
        rate = statistics.median(r for r, _, _ in runs)
        p99 = statistics.median(p for _, p, _ in runs)
        cpu = statistics.median(c for _, _, c in runs)
        medians[name], cpus[name] = rate, cpu
        print(f"{labels[name]:<42} {rate:8.0f} updates/s   p99 {p99 * 1000:6.1f} ms   "
              f"server CPU {cpu * 1000:5.2f} ms/update   runs: " + ", ".join(f"{r:.0f}" for r, _, _ in runs))
    print(f"serve / echo = {medians['b'] / medians['e']:.2f} in updates/s (goal >= 1.0); "
          f"{cpus['e'] / cpus['b']:.2f} in server CPU per update (echo / serve)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.echo_server:
        asyncio.run(echo_server(arguments.echo_server, arguments.api))
    else:
        asyncio.run(main(arguments))
