"""Commands of the hours feature (see docs/cli.md and docs/hours.md): ``import hours``, ``hours``, ``report hours``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import CommandGroups
from bot.commands.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    add_file_options,
    batch_note,
    cli_actor,
    employee_named,
    employee_number,
    err,
    print_import,
    report_format,
    rules_of_year,
    sayer,
)

if TYPE_CHECKING:

    from bot.config import Settings
    from bot.texts import MessageCatalog


async def cmd_import_hours(args: argparse.Namespace, settings: Settings) -> int:
    """Validate a learning-hours CSV as a whole and upsert its records in one transaction, as one undoable batch."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.db.engine import ImportBusy
    from bot.services.common import ImportFileError, Journal
    from bot.services.hours import import_hours, load_hours_mapping

    async with running_app(settings, demo=False) as app:
        mapping = load_hours_mapping(settings.data_dir, args.mapping)
        now = app.clock.now()
        try:
            async with app.sessions() as session:
                journal = Journal(session)
                report = await import_hours(session, args.file, mapping=mapping, rules=app.rules,
                                            today=taipei_today(app.clock), now=now,
                                            default_source=args.source, dry_run=args.dry_run, journal=journal,
                                            skip_unknown=args.skip_unknown, sheet=args.sheet)
                counts = {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
                          "replaced": report.replaced}
                if report.ok and not args.dry_run:
                    batch = await journal.record(kind="hours", actor=cli_actor(), now=now, file=str(args.file),
                                                 digest=report.digest, label=report.batch, counts=counts)
                    report.batch_id = batch.id if batch else None
                    await session.commit()
                else:
                    await session.rollback()
        except (ImportFileError, ImportBusy) as exc:
            err(f"abc-bot: {exc}")
            return EXIT_REFUSED
        if report.ok and report.other_years:
            report.warnings.append(f"{report.other_years} record(s) dated outside plan year {app.rules.year}")
        return print_import(report, as_json=args.json, counts=counts, dry_run=args.dry_run,
                            say=sayer(app.texts, args.lang))


async def cmd_hours(args: argparse.Namespace, settings: Settings) -> int:
    """One employee's hours status (text, or the JSON contract with --json)."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.dates import format_roc
    from bot.services.accounts import find_employee
    from bot.services.hours import format_hours, load_status, status_to_json

    if args.employee_no == "delete":
        return await cmd_hours_delete(args, settings)
    if args.record_id is not None or args.by or args.reason:
        err("abc-bot: RECORD_ID, --by and --reason belong to: abc-bot hours delete RECORD_ID --by HR_NO --reason TEXT")
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app:
        rules = rules_of_year(settings, app.rules, args.year)
        if rules is None:
            return EXIT_USAGE
        async with app.sessions() as session:
            number = employee_number(args.employee_no)
            if number is None:
                return EXIT_USAGE
            emp = await find_employee(session, number)
            if emp is None:
                err(f"abc-bot: employee {number} is not on the roster")
                return EXIT_REFUSED
            status = await load_status(session, rules, emp, today=taipei_today(app.clock))
        data = status_to_json(emp, status, rules)
        if args.json:
            print(json.dumps(data, ensure_ascii=False))
            return EXIT_OK
        print(f"{emp.employee_no} {emp.name} ({emp.agency}) — plan year {rules.year}, as of {format_roc(status.today)}")
        if not status.applies:
            print(f"  the hours requirement does not apply to {emp.rank!r}")
        for b in status.buckets:
            print(f"  {b.id:<12} required {format_hours(b.required):>5}  done {format_hours(b.done):>5}"
                  f"  counted {format_hours(b.counted):>5}  remaining {format_hours(status.owed(b)):>5}")
        print(f"  {'total':<12} required {format_hours(status.required):>5}"
              f"  done {format_hours(status.done):>5}  counted {format_hours(status.counted):>5}"
              f"  remaining {format_hours(status.remaining):>5}")
        for d in status.deadlines:
            left = "passed" if d.passed else f"{d.days_left} days left"
            print(f"  {d.id}: {format_roc(d.date)} ({left}), {format_hours(d.remaining)} h to go")
        for r in status.records:
            mark = "" if r.credited else f"  NOT COUNTED: {_reason(app.texts, r.forfeit_reason, settings.default_lang)}"
            print(f"    {format_roc(r.occurred_on):<11} {r.source:<6} {r.bucket:<11} {format_hours(r.hours):>5}"
                  f"  {r.title}  [#{r.id}]{mark}")
        return EXIT_OK


async def cmd_hours_delete(args: argparse.Namespace, settings: Settings) -> int:
    """``abc-bot hours delete RECORD_ID --by HR_NO --reason TEXT``: remove one wrong record, audited and undoable."""
    from bot.bootstrap import running_app
    from bot.dates import format_roc
    from bot.services.accounts import record, scope_of
    from bot.services.common import Journal
    from bot.services.hours import format_hours, record_with_owner

    if args.record_id is None or not args.by or not (args.reason or "").strip():
        err("abc-bot: usage: abc-bot hours delete RECORD_ID --by HR_EMPLOYEE_NO --reason TEXT "
            "(record ids: abc-bot hours EMPLOYEE_NO --json)")
        return EXIT_USAGE
    text = args.record_id.lstrip("#")
    if not text.isdigit():
        err(f"abc-bot: {args.record_id!r} is not a record id (abc-bot hours EMPLOYEE_NO shows them)")
        return EXIT_USAGE
    record_id, reason = int(text), " ".join(args.reason.split())
    async with running_app(settings, demo=False) as app:
        now = app.clock.now()
        async with app.sessions.begin() as session:
            hr = await employee_named(session, args.by)
            if hr is None:
                return EXIT_REFUSED
            actor = cli_actor(hr.employee_no)
            found = await record_with_owner(session, record_id)
            scope = await scope_of(session, hr)
            allowed = found is not None and scope.covers(found[1].agency) and found[0].source in ("portal", "hr")
            await record(session, actor=actor, actor_employee_id=hr.id, action="hours.delete",
                         target=f"#{record_id} {found[1].employee_no if found else ''}".strip(), allowed=allowed,
                         now=now, detail=reason)
            if found is None or not scope.covers(found[1].agency):  # one answer: nothing about other agencies
                err(f"abc-bot: no learning record #{record_id} that {hr.employee_no} may delete "
                    "(agency HR: their agencies' records; city admin: every record)")
                return EXIT_REFUSED
            rec, owner = found
            if not allowed:
                err(f"abc-bot: record #{record_id} comes from {rec.source!r}, not from an import: "
                    + ("correct the class's attendance with abc-bot import attendance instead"
                       if rec.source == "class" else "it cannot be deleted here"))
                return EXIT_REFUSED
            journal = Journal(session)
            await journal.track_in(type(rec), type(rec).id, [rec.id])
            summary = f"{owner.employee_no} {format_roc(rec.occurred_on)} {rec.title} {format_hours(rec.hours)} h"
            await session.delete(rec)
            batch = await journal.record(kind="hours_delete", actor=actor, now=now, counts={"deleted": 1},
                                         label=f"record {record_id}", note=reason)
        print(f"learning record #{record_id} deleted ({summary})" + batch_note(batch.id if batch else None))
        return EXIT_OK


def _reason(texts: MessageCatalog, key: str | None, lang: str) -> str:
    """A forfeit reason as people read it (the key itself when this version does not know it)."""
    from bot.services.hours import forfeit_reason_text

    return forfeit_reason_text(lambda k, **v: texts.get(k, lang, **v), key) or (key or "")


async def cmd_report_hours(args: argparse.Namespace, settings: Settings) -> int:
    """The HR report: employees by hours remaining, and agency completion rates, as CSV or xlsx."""
    import time

    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.services.hours import build_report, write_csv, write_xlsx

    fmt = report_format(args.format, args.out)
    if fmt is None:
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app:
        started = time.perf_counter()
        rules = rules_of_year(settings, app.rules, args.year)
        if rules is None:
            return EXIT_USAGE
        async with app.sessions() as session:
            from bot.commands.reports import report_scope

            allowed, agency = await report_scope(session, by=args.by, agency=args.agency, action="report.hours",
                                                 now=app.clock.now())
            if not allowed:
                return EXIT_REFUSED
            report = await build_report(session, rules, today=taipei_today(app.clock), agency=agency,
                                        include_inactive=args.include_inactive)
        lang = args.lang

        def t(key: str) -> str:
            return app.texts.get(key, lang)

        try:
            paths = (write_xlsx if fmt == "xlsx" else write_csv)(report, args.out, t, lang)
        except OSError as exc:
            err(f"abc-bot: cannot write {exc.filename or args.out}: {exc.strerror or exc}")
            return EXIT_REFUSED
        took = time.perf_counter() - started
        total = report.total
        rate = f"{float(total.rate * 100):.1f}%" if total.rate is not None else "n/a"
        print(f"{len(report.rows)} employee(s), {len(report.agencies)} agenc(ies); complete {total.complete}/"
              f"{total.subject} ({rate}); written to {', '.join(str(p) for p in paths)} in {took:.2f} s")
        return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
    p = groups.imports.add_parser("hours", help="import learning-hours records (CSV): idempotent by natural key")
    p.add_argument("file", type=Path, metavar="FILE.csv|FILE.xlsx")
    p.add_argument("--mapping", type=Path, metavar="MAP.yaml", help="header names of your file (see data/imports/)")
    add_file_options(p, skip_unknown=True)
    p.add_argument("--source", choices=["portal", "hr"], help="source of every row (overrides a source column)")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_import_hours, log="WARNING")

    p = groups.top.add_parser(
        "hours", help="one employee's learning-hours status, or delete one wrong record",
        usage="abc-bot hours EMPLOYEE_NO [--json] [--year Y]\n"
              "       abc-bot hours delete RECORD_ID --by HR_EMPLOYEE_NO --reason TEXT")
    p.add_argument("employee_no", metavar="EMPLOYEE_NO", help="whose status; or the word delete")
    p.add_argument("record_id", nargs="?", metavar="RECORD_ID", help="with delete: the record (see --json)")
    p.add_argument("--json", action="store_true", help="the JSON contract of docs/cli.md")
    p.add_argument("--year", type=int, metavar="Y", help="ROC plan year (default: PLAN_YEAR)")
    p.add_argument("--by", metavar="HR_EMPLOYEE_NO", help="with delete: the HR employee deleting (their role decides)")
    p.add_argument("--reason", metavar="TEXT", help="with delete: why (kept in the audit and the import history)")
    p.set_defaults(func=cmd_hours, log="WARNING")

    p = groups.report.add_parser("hours", help="hours of every employee and agency completion rates")
    p.add_argument("--agency", help="only this agency")
    p.add_argument("--format", choices=["csv", "xlsx"], help="default: from --out's suffix, else csv")
    p.add_argument("--out", type=Path, required=True, metavar="FILE")
    p.add_argument("--year", type=int, metavar="Y", help="ROC plan year (default: PLAN_YEAR)")
    p.add_argument("--include-inactive", action="store_true", help="also employees no longer on the roster")
    p.add_argument("--lang", choices=["zh-TW", "en"], default="zh-TW", help="column titles")
    p.add_argument("--by", metavar="HR_EMPLOYEE_NO", help="the HR officer it is for: limited to what their role covers")
    p.set_defaults(func=cmd_report_hours, log="WARNING")
