"""The ``abc-bot`` command line: run, chat, serve, search, catalog, db … (see docs/cli.md).

Heavy modules (SDKs, SQLAlchemy engines) are imported inside the commands that need them, so
``abc-bot --help`` and ``abc-bot search`` start quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.config import ConfigError, Settings, load_settings

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141
"""stdout's reader closed early (``abc-bot … | head -1``): what a shell reports for a process ended by SIGPIPE."""

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


def _setup_logging(settings: Settings, default: str, *, log_file: Path | None = None) -> None:
    """Log at ``LOG_LEVEL`` (else ``default``) to stderr, or to ``log_file`` (the console chat's own file).

    Raises:
        OSError: the log file's folder cannot be made or the file cannot be opened for appending.
    """
    level = settings.log_level if os.environ.get("LOG_LEVEL") else default
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
        logging.captureWarnings(True)  # Python's warnings too: nothing but the conversation on the terminal
    logging.basicConfig(level=level, handlers=[handler],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if handler not in logging.getLogger().handlers:  # logging was already set up (main called in a test)
        handler.close()
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin otherwise
    # aiosqlite logs every statement with its parameters at DEBUG: names, employee numbers, state data.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))


def _is_console_chat(args: argparse.Namespace, settings: Settings) -> bool:
    """True for ``chat`` and for ``run`` without credentials: the terminal is the conversation."""
    if args.func is cmd_chat:
        return True
    from bot.bootstrap import configured_channels

    return args.func is cmd_run and not configured_channels(settings)


def _console_clock(settings: Settings) -> Clock | None:
    """The clock of console commands: shifted to ``DEMO_TODAY`` when it is set, else the real one."""
    if settings.demo_today is None:
        return None
    from bot.clock import ShiftedClock

    print(f"note: DEMO_TODAY is set: the bot runs as on {settings.demo_today.isoformat()}", file=sys.stderr)
    return ShiftedClock.on_day(settings.demo_today)


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Chat in the terminal as an employee (the console channel)."""
    from bot.bootstrap import running_app
    from bot.channels.console import run_console
    from bot.services.accounts import bind_console_account

    async with running_app(settings, clock=_console_clock(settings), demo=None) as app:
        user = args.user or settings.demo_employee_no
        async with app.sessions.begin() as session:
            account = await bind_console_account(session, user, lang=args.lang or settings.default_lang,
                                                 now=app.clock.now())
            if args.lang:
                account.lang = args.lang
            if account.employee_id is None:
                print(f"note: employee {user} is not on the roster; chatting as an unbound user",
                      file=sys.stderr)
        if not settings.scheduler:
            return await run_console(app, user, json_mode=args.json)
        from bot.scheduler import SchedulerRunner

        runner = SchedulerRunner(app)  # the demo's reminders up to DEMO_TODAY are decided before the chat starts
        await runner.tick()
        runner.start()
        try:
            return await run_console(app, user, json_mode=args.json)
        finally:
            await runner.stop()


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the whole bot: the web server when a channel's credentials are set (LINE), else the console."""
    from bot.bootstrap import configured_channels

    if configured_channels(settings):
        return await cmd_serve(args, settings)
    args.user, args.lang, args.json = None, None, False
    return await cmd_chat(args, settings)


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the configured channels' webhooks (LINE), health and metrics."""
    from bot.web import serve

    if settings.demo_today is not None:
        print("note: DEMO_TODAY only applies to the console; serve uses the real clock", file=sys.stderr)
    return await serve(settings, host=getattr(args, "host", None), port=getattr(args, "port", None))


async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Search the catalog; one result block (or JSON line) per query argument."""
    from bot.bootstrap import load_app

    engine = load_app(settings).search
    for query in args.queries:
        hits = engine.search(query, limit=args.limit)
        if args.json:
            print(json.dumps({"query": query, "results": [
                {"id": h.item.id, "title": h.item.title, "title_en": h.item.title_en, "score": h.score}
                for h in hits]}, ensure_ascii=False))
        else:
            print(f"{query}:")
            if not hits:
                print("  (no match)")
            for rank, h in enumerate(hits, start=1):
                print(f"  {rank}. [{h.item.id}] {h.item.title} / {h.item.title_en}  ({h.score:g}, {h.via})")
    return EXIT_OK


async def cmd_catalog(args: argparse.Namespace, settings: Settings) -> int:
    """Print the catalog (every item), as text or as one JSON array."""
    from bot.services.catalog import load_catalog

    catalog = load_catalog(settings.data_dir, settings.plan_year)
    rows = catalog.to_json_rows()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            indent = "    " if row["series"] else "  "
            print(f"{indent}[{row['id']}] {row['title']} / {row['title_en']}")
    return EXIT_OK


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate the database to the newest schema and load the catalog."""
    from bot.bootstrap import running_app

    async with running_app(settings, demo=False):
        pass
    print("database is up to date")
    return EXIT_OK


async def cmd_db_seed(args: argparse.Namespace, settings: Settings) -> int:
    """Load the catalog and, with --demo, the sample roster."""
    from bot.bootstrap import running_app

    async with running_app(settings, demo=args.demo, clock=_console_clock(settings) if args.demo else None):
        pass
    print("catalog loaded" + (", demo data loaded" if args.demo else ""))
    return EXIT_OK


async def cmd_check_data(args: argparse.Namespace, settings: Settings) -> int:
    """Validate every data file without touching the database."""
    from bot.bootstrap import load_app

    app = load_app(settings)
    catalog, rules, texts = app.catalog, app.rules, app.texts
    print(f"ok: plan {catalog.year}, {len(catalog)} catalog items, {len(rules.hours.buckets)} hour buckets, "
          f"{len(texts.keys())} texts")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="abc-bot", description="ABC Learning Bot (育才ABC學習小幫手)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run the bot (console chat when no LINE/Telegram credentials are set)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_run, log="WARNING")

    p = sub.add_parser("chat", help="chat in the terminal (console channel)")
    p.add_argument("--user", metavar="EMPLOYEE_NO", help="chat as this employee (default: the demo employee)")
    p.add_argument("--lang", choices=["zh-TW", "en"])
    p.add_argument("--json", action="store_true", help="one JSON object per input line")
    p.set_defaults(func=cmd_chat, log="WARNING")

    p = sub.add_parser("serve", help="serve webhooks, /healthz and /metrics")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve, log="INFO")

    p = sub.add_parser("search", help="search the catalog")
    p.add_argument("--json", action="store_true", help="one JSON line per query")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("queries", nargs="+", metavar="QUERY")
    p.set_defaults(func=cmd_search, log="WARNING")

    p = sub.add_parser("catalog", help="print the catalog")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_catalog, log="WARNING")

    p = sub.add_parser("check-data", help="validate the data files")
    p.set_defaults(func=cmd_check_data, log="WARNING")

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="apply migrations and load the catalog")
    p.set_defaults(func=cmd_db_upgrade, log="INFO")
    p = db.add_parser("seed", help="load the catalog (and, with --demo, the sample roster)")
    p.add_argument("--demo", action="store_true")
    p.set_defaults(func=cmd_db_seed, log="INFO")

    from bot.commands import register_all

    register_all(sub)
    return parser


def _reader_went_away() -> int:
    """The reader closed stdout's pipe: stop quietly, as Python's documentation advises for SIGPIPE.

    stdout is pointed at /dev/null, so what is still buffered for it cannot fail again (with a traceback)
    when the interpreter flushes it on the way out.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``abc-bot``.

    The garbage collector is paused while the command starts (imports, data files, indexes) and turned
    back on when the app is built (:func:`bot.bootstrap.end_of_startup`), or when the command ends.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    from bot.datafiles import DataFileError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"abc-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    log_file = settings.log_file if _is_console_chat(args, settings) else None
    try:
        _setup_logging(settings, args.log, log_file=log_file)
    except OSError as exc:
        print(f"abc-bot: configuration error: cannot write the log file (LOG_FILE): {exc}", file=sys.stderr)
        return EXIT_USAGE
    command: Command = args.func
    try:
        code = asyncio.run(command(args, settings))
        sys.stdout.flush()  # a reader that went away shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except DataFileError as exc:
        print(f"abc-bot: bad data file:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
