"""Reminders and the outbox: ``reminders due|run --at``, ``outbox status``, ``scheduler`` (docs/cli.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.commands import CommandGroups
from bot.commands.common import EXIT_OK, EXIT_USAGE, err
from bot.config import Settings
from bot.services.common import write_csv, write_table


def _instant(text: str) -> datetime | None:
    """``--at``: an ISO 8601 instant; without an offset it is read as Asia/Taipei."""
    from bot.clock import TAIPEI

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        err(f"abc-bot: --at must be an ISO date and time like 2024-09-23T09:00+08:00, got {text!r}")
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=TAIPEI)


def _text(payload: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in payload)


async def cmd_due(args: argparse.Namespace, settings: Settings) -> int:
    """What a sweep at ``--at`` would queue (and is not queued yet); writes nothing."""
    from datetime import UTC

    from bot.bootstrap import running_app

    at = _instant(args.at)
    if at is None:
        return EXIT_USAGE
    async with running_app(settings) as app:
        reminders = app.app.reminders
        assert reminders is not None
        since = at - _catch_up(reminders)
        async with app.sessions() as session:
            planned = await reminders.plan(session, at, since=since)
    for p in planned:
        row = p.row
        not_before = (row.not_before or at).astimezone(UTC).isoformat()
        if args.json:
            print(json.dumps({"kind": row.kind, "employee_no": p.employee_no, "channel": row.channel,
                              "dedupe_key": row.dedupe_key, "not_before": not_before, "text": _text(row.payload)},
                             ensure_ascii=False))
        else:
            state = f"  (recorded skipped: {row.skip_reason})" if row.skip_reason else ""
            print(f"{row.kind}\t{p.employee_no}\t{row.channel}\t{not_before}\t{row.dedupe_key}{state}")
    if not args.json:
        print(f"{len(planned)} notice(s) would be queued at {at.isoformat()}")
    return EXIT_OK


def _catch_up(reminders: object) -> timedelta:
    from bot.services.reminders import Reminders

    assert isinstance(reminders, Reminders)
    return timedelta(hours=reminders.ctx.settings.catch_up_hours)


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Sweep at ``--at`` now, as the scheduler would (idempotent); counts per kind."""
    from bot.bootstrap import running_app

    at = _instant(args.at)
    if at is None:
        return EXIT_USAGE
    async with running_app(settings) as app:
        reminders = app.app.reminders
        assert reminders is not None
        async with app.sessions.begin() as session:
            result = await reminders.sweep(session, at, since=at - _catch_up(reminders))
    kinds = sorted(set(result.queued) | set(result.skipped))
    if args.json:
        print(json.dumps({"at": at.isoformat(), "queued": result.queued, "skipped": result.skipped,
                          "total": result.total}, ensure_ascii=False))
    else:
        for kind in kinds:
            print(f"{kind}: queued {result.queued.get(kind, 0)}, skipped {result.skipped.get(kind, 0)}")
        print(f"{result.total} new notice(s) at {at.isoformat()}")
    return EXIT_OK


async def cmd_outbox_status(args: argparse.Namespace, settings: Settings) -> int:
    """Pending / sending / sent / failed / skipped per kind (of one batch with ``--batch``)."""
    from bot.bootstrap import running_app
    from bot.services.notices import delivery_report

    async with running_app(settings) as app, app.sessions() as session:
        report = await delivery_report(session, args.batch)
    fields = ("pending", "sending", "sent", "failed", "skipped")
    if args.json:
        print(json.dumps({"batch": args.batch,
                          "kinds": {kind or "": {f: getattr(c, f) for f in fields}
                                    for kind, c in report.by_kind.items()},
                          "total": {f: getattr(report.overall, f) for f in fields}}, ensure_ascii=False))
        return EXIT_OK
    print("kind\t" + "\t".join(fields))
    for kind, c in report.by_kind.items():
        print(f"{kind or '-'}\t" + "\t".join(str(getattr(c, f)) for f in fields))
    print("total\t" + "\t".join(str(getattr(report.overall, f)) for f in fields))
    return EXIT_OK


async def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    """Run only the scheduler (standing by while another process holds the lock) until SIGTERM or SIGINT."""
    from bot.bootstrap import running_app
    from bot.scheduler import SchedulerRunner

    async with running_app(settings) as app:
        runner = SchedulerRunner(app)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runner.start()
        try:
            await stop.wait()
        finally:
            await runner.stop()
    return EXIT_OK


def _survey_rows(report: object) -> list[list[str]]:
    """The report as a table: one row per question (scale: answers, mean, count per point), then each text."""
    from bot.services.reminders import SurveyReport

    assert isinstance(report, SurveyReport)
    points = sorted({p for q in report.questions for p in q.counts})
    rows = [["question", "type", "answers", "mean", *[str(p) for p in points]]]
    for q in report.questions:
        rows.append([q.id, q.type, str(q.answers), "" if q.mean is None else str(q.mean),
                     *[str(q.counts.get(p, 0)) if q.type == "scale" else "" for p in points]])
    for q in report.questions:
        rows += [[q.id, "text", "", text] for text in q.texts]
    return rows


async def cmd_report_survey(args: argparse.Namespace, settings: Settings) -> int:
    """The anonymous satisfaction survey of one class: counts and means per question, free text without names."""
    import sys

    from bot.bootstrap import running_app
    from bot.commands.common import EXIT_REFUSED, output_exists, report_format
    from bot.services.classes import find_class
    from bot.services.reminders import survey_report

    fmt = args.format
    if fmt == "xlsx" and args.out is None:
        err("abc-bot: --format xlsx needs --out FILE.xlsx")
        return EXIT_USAGE
    if args.out is not None:
        fmt = report_format(fmt, args.out)
        if fmt is None:
            return EXIT_USAGE
        if output_exists(args.out):
            err(f"abc-bot: {args.out} exists; remove it or choose another --out")
            return EXIT_REFUSED
    async with running_app(settings) as app, app.sessions() as session:
        cls = await find_class(session, args.class_id)
        if cls is None:
            err(f"abc-bot: no class {args.class_id!r}")
            return EXIT_REFUSED
        assert app.app.reminders is not None
        report = await survey_report(session, app.app.reminders.ctx.settings.survey, cls.id)
    if args.json:
        print(json.dumps({"class": cls.code, "invited": report.invited, "responses": report.responses,
                          "questions": [{"id": q.id, "text": q.text, "type": q.type, "answers": q.answers,
                                         "mean": None if q.mean is None else str(q.mean),
                                         "counts": {str(k): v for k, v in q.counts.items()} if q.type == "scale"
                                         else None, "texts": q.texts if q.type == "text" else None}
                                        for q in report.questions]}, ensure_ascii=False))
        return EXIT_OK
    rows = _survey_rows(report)
    if fmt == "xlsx" or args.out is not None:
        write_table(rows, args.out, fmt or "csv")
    elif fmt == "csv":
        write_csv(rows, sys.stdout)
    else:
        print(f"{cls.code}: {report.responses} of {report.invited} answered")
        for q in report.questions:
            if q.type == "scale":
                dist = " ".join(f"{p}:{n}" for p, n in q.counts.items())
                print(f"  {q.id}: {q.answers} answers, mean {q.mean if q.mean is not None else '-'} ({dist})")
            else:
                print(f"  {q.id}: {q.answers} answers")
                for text in q.texts:
                    print(f"    - {text}")
    return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add ``reminders due|run``, ``outbox status`` and ``scheduler``."""
    rem = groups.top.add_parser("reminders", help="what the scheduler decides (reminders)").add_subparsers(
        dest="reminders_command", required=True)
    for name, func, text in (("due", cmd_due, "what a sweep at --at would queue; writes nothing"),
                             ("run", cmd_run, "sweep at --at now, as the scheduler would (idempotent)")):
        p = rem.add_parser(name, help=text)
        p.add_argument("--at", required=True, metavar="ISO_DATETIME")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func, log="WARNING")
    out = groups.top.add_parser("outbox", help="the outbox").add_subparsers(dest="outbox_command", required=True)
    p = out.add_parser("status", help="pending / sent / failed / skipped per kind")
    p.add_argument("--json", action="store_true")
    p.add_argument("--batch", metavar="ID")
    p.set_defaults(func=cmd_outbox_status, log="WARNING")
    p = groups.report.add_parser("survey", help="a class's anonymous satisfaction survey")
    p.add_argument("class_id", metavar="CLASS_ID", help="the class's code or number")
    p.add_argument("--json", action="store_true")
    p.add_argument("--format", choices=["csv", "xlsx"])
    p.add_argument("--out", type=Path, metavar="FILE", help="write the table to FILE (xlsx needs it)")
    p.set_defaults(func=cmd_report_survey, log="WARNING")
    p = groups.top.add_parser("scheduler", help="run only the scheduler (one process leads, others stand by)")
    p.set_defaults(func=cmd_scheduler, log="INFO")
