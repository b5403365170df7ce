"""Commands of the classes feature: import classes and attendance, name a substitute, report a class.

* ``abc-bot import classes FILE [--dry-run] [--json] [--mapping M]`` (YAML or CSV; all or nothing; one batch)
* ``abc-bot import attendance FILE.csv [--dry-run] [--json] [--mapping M]``
* ``abc-bot admin substitute CLASS EMPLOYEE_NO SUBSTITUTE_NO [--by EMPLOYEE_NO]``
* ``abc-bot report class CLASS_ID [--json]``

Exit codes: 0 done, 1 refused (the reason is printed), 2 bad file or usage (the problems are printed).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import CommandGroups
from bot.commands.common import add_file_options, batch_note, cli_actor, sayer, skipped_text
from bot.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.bootstrap import Runtime
    from bot.db.models.classes import TrainingClass
    from bot.db.models.core import Employee
    from bot.services.classes import ClassImportReport

EXIT_OK, EXIT_REFUSED, EXIT_BAD_FILE = 0, 1, 2
_LINE = re.compile(r"\b(?:line|row) (\d+)\b|第 (\d+) 列")


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
    p = groups.imports.add_parser("classes", help="create or update classes (班期) from a YAML or CSV file")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="check the file and show what would change; write nothing")
    p.add_argument("--mapping", type=Path, help="a CSV column mapping (default data/imports/classes.yaml)")
    add_file_options(p)
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_import_classes, log="WARNING")

    p = groups.imports.add_parser("attendance", help="record attendance of classes and the hours it earns")
    p.add_argument("file", type=Path, metavar="FILE.csv|FILE.xlsx")
    add_file_options(p, skip_unknown=True)
    p.add_argument("--dry-run", action="store_true", help="check the file and show what would change; write nothing")
    p.add_argument("--mapping", type=Path, help="a CSV column mapping (default data/imports/attendance.yaml)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_import_attendance, log="WARNING")

    p = groups.admin.add_parser("substitute", help="give an enrolled employee's seat to a colleague (遞補)")
    p.add_argument("class_ref", metavar="CLASS", help="class code (or number)")
    p.add_argument("employee_no", metavar="EMPLOYEE_NO", help="the enrolled employee")
    p.add_argument("substitute_no", metavar="SUBSTITUTE_NO", help="the colleague who takes the seat")
    p.add_argument("--by", metavar="EMPLOYEE_NO",
                   help="act as this HR employee (their role limits the agencies); default: city HR")
    p.set_defaults(func=cmd_substitute, log="WARNING")

    p = groups.report.add_parser("class", help="a class's roster, gender and agency split, classes taken this year")
    p.add_argument("class_ref", metavar="CLASS_ID", help="class code or number")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_report_class, log="WARNING")


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that everything rolls back."""


def _batch(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now:%Y%m%dT%H%M%S}"


async def cmd_import_classes(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the whole file, then create or update every class in one transaction, as one undoable batch."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.datafiles import DataFileError
    from bot.db.engine import ImportBusy
    from bot.services.classes import import_classes, load_enrollment_settings, read_classes_file
    from bot.services.common import Journal

    async with running_app(settings) as app:
        now = app.clock.now()
        try:
            spec = read_classes_file(args.file, plan_year=settings.plan_year, today=taipei_today(app.clock),
                                     mapping=args.mapping, data_dir=settings.data_dir, sheet=args.sheet,
                                     say=sayer(app.texts, args.lang))
            plan_settings = load_enrollment_settings(settings.data_dir, spec.plan_year)
            async with app.sessions.begin() as session:
                journal = Journal(session)
                report = await import_classes(session, spec, settings=plan_settings, deps=app.app.deps, now=now,
                                              batch=_batch("classes", now), source=str(args.file),
                                              dry_run=args.dry_run, journal=journal)
                if args.dry_run:
                    raise _DryRun
                batch = await journal.record(kind="classes", actor=cli_actor(), now=now, file=str(args.file),
                                             label=report.batch, counts=_class_counts(report))
                report.batch_id = batch.id if batch else None
        except _DryRun:
            pass
        except (ImportBusy, DataFileError) as exc:
            return _not_imported(args, exc)
    if args.json:
        print(json.dumps({"file": str(args.file), "dry_run": args.dry_run, "written": not args.dry_run,
                          "batch": report.batch_id, **_class_counts(report), "codes": {
                              "created": report.created, "updated": report.updated, "unchanged": report.unchanged},
                          "records_rederived": report.records_rederived, "events": report.events,
                          "notes": report.notes, "rejected": []}, ensure_ascii=False))
        return EXIT_OK
    for line in report.lines():
        print(line)
    if args.dry_run:
        print("dry run: nothing was written")
    return EXIT_OK


def _class_counts(report: ClassImportReport) -> dict[str, int]:
    return {"created": len(report.created), "updated": len(report.updated), "unchanged": len(report.unchanged)}


def _not_imported(args: argparse.Namespace, exc: Exception) -> int:
    """The database stayed busy (exit 1), or the file was rejected: as ``--json`` (exit 2) or as a bad data file.

    A rejected file with ``--json`` lists every problem, nothing written; without it the problems go to
    stderr as for any bad data file (``abc-bot: bad data file: …``, exit 2).
    """
    from bot.db.engine import ImportBusy

    if isinstance(exc, ImportBusy):
        print(f"abc-bot: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if not args.json:
        raise exc
    lines = [line for line in str(exc).splitlines() if line.strip()]
    print(json.dumps({"file": str(args.file), "written": False, "batch": None, "rejected": [
        {"line": int(m.group(1) or m.group(2)) if (m := _LINE.search(line)) else None, "reason": line}
        for line in lines]}, ensure_ascii=False))
    return EXIT_BAD_FILE


async def cmd_import_attendance(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the whole file, then record attendance and learning-hours records in one transaction (one batch)."""
    from bot.bootstrap import running_app
    from bot.datafiles import DataFileError
    from bot.db.engine import ImportBusy
    from bot.services.classes import import_attendance, read_attendance_rows
    from bot.services.common import Journal

    async with running_app(settings) as app:
        now = app.clock.now()
        try:
            say = sayer(app.texts, args.lang)
            lines, problems = read_attendance_rows(args.file, args.mapping, data_dir=settings.data_dir,
                                                   sheet=args.sheet, say=say)
            async with app.sessions.begin() as session:
                journal = Journal(session)
                report = await import_attendance(session, lines, rules=app.rules, catalog=app.catalog,
                                                 settings=app.app.enrollment, now=now,
                                                 batch=_batch("attendance", now), source=str(args.file),
                                                 problems=problems, journal=journal,
                                                 skip_unknown=args.skip_unknown, say=say)
                if args.dry_run:
                    raise _DryRun
                counts = {"rows": report.rows, "attended": report.attended, "absent": report.absent,
                          "records_created": report.records_created, "records_updated": report.records_updated,
                          "records_removed": report.records_removed}
                batch = await journal.record(kind="attendance", actor=cli_actor(), now=now, file=str(args.file),
                                             label=report.batch, counts=counts)
                report.batch_id = batch.id if batch else None
        except _DryRun:
            pass
        except (ImportBusy, DataFileError) as exc:
            return _not_imported(args, exc)
    if args.json:
        print(json.dumps({"file": str(args.file), "dry_run": args.dry_run, "written": not args.dry_run,
                          "batch": report.batch_id, "rows": report.rows, "attended": report.attended,
                          "credited": report.credited, "forfeited": report.forfeited, "absent": report.absent,
                          "records": {"created": report.records_created, "updated": report.records_updated,
                                      "removed": report.records_removed}, "rejected": [],
                          "skipped": [{"line": n, "employee_no": no} for n, no in report.skipped]},
                         ensure_ascii=False))
        return EXIT_OK
    if report.skipped:
        print(skipped_text(report.skipped, say), file=sys.stderr)
    records = (f"{report.records_created} created, {report.records_updated} updated, "
               f"{report.records_removed} removed")
    if args.dry_run:
        print(f"attendance (dry run): {report.rows} rows, {report.attended} would be recorded attended "
              f"({report.credited} credited, {report.forfeited} without hours), {report.absent} absent; learning "
              f"records would be {records}")
        print("dry run: nothing was written")
    else:
        print(f"attendance: {report.rows} rows, {report.attended} attended ({report.credited} credited, "
              f"{report.forfeited} without hours), {report.absent} absent; learning records {records}"
              f"{batch_note(report.batch_id)}")
    return EXIT_OK


async def cmd_substitute(args: argparse.Namespace, settings: Settings) -> int:
    """Move the seat and queue a notice to both people, in one transaction."""
    from bot.bootstrap import running_app
    from bot.services.accounts import employees_by_number
    from bot.services.classes import find_class, substitute_as
    from bot.services.common import parse_employee_no

    async with running_app(settings) as app:
        lang = settings.default_lang
        async with app.sessions.begin() as session:
            try:
                numbers = [parse_employee_no(n) for n in (args.employee_no, args.substitute_no, args.by or "") if n]
            except ValueError as exc:
                print(f"abc-bot: {exc}")
                return EXIT_REFUSED
            people = await employees_by_number(session, numbers)
            missing = [n for n in numbers if n not in people]
            cls = await find_class(session, args.class_ref)
            if args.by and await _out_of_scope(session, app, people, numbers, cls, lang):
                return EXIT_REFUSED
            if cls is None or missing:
                what = f"class {args.class_ref}" if cls is None else f"employee {missing[0]}"
                print(f"abc-bot: no such {what}")
                return EXIT_REFUSED
            actor = people[numbers[2]] if args.by else None
            leaving, replacement = people[numbers[0]], people[numbers[1]]
            result = await substitute_as(session, actor, cls, leaving, replacement,
                                         actor_label=f"cli:{actor.employee_no if actor else ''}",
                                         now=app.clock.now(), deps=app.app.deps, lang=lang)
            if not result.ok:
                assert result.refusal is not None
                print(result.refusal.text(lambda key, **values: app.texts.get(key, lang, **values)))
                return EXIT_REFUSED
        told = [p.employee_no for p, ok in ((leaving, result.leaving_told), (replacement, result.replacement_told))
                if ok]
        untold = [n for n in (leaving.employee_no, replacement.employee_no) if n not in told]
        who = ("both are told" if not untold else "neither has a chat account, so tell them yourself" if not told
               else f"{told[0]} is told; {untold[0]} has no chat account, so tell them yourself")
        print(f"substitute: {replacement.employee_no} {replacement.name} takes {leaving.employee_no} "
              f"{leaving.name}'s seat in {cls.code}; {who}")
        return EXIT_OK


async def _out_of_scope(session: AsyncSession, app: Runtime, people: dict[str, Employee], numbers: list[str],
                        cls: TrainingClass | None, lang: str) -> bool:
    """With ``--by``: the officer's scope is checked before anything is looked up for them (audited).

    An unknown class or number and someone of another agency get the chat's one sentence, which names only
    the officer's own agencies: the command tells nobody whether a number exists or where its holder works.
    """
    from bot.services.accounts import record, scope_of
    from bot.services.classes import SUB_ACTION

    actor = people.get(numbers[2])
    scope = await scope_of(session, actor)
    if not scope.is_hr:
        print(app.texts.get("classes.sub.not_hr", lang))
    elif scope.city:  # a city admin may act on anyone: an unknown class or number is simply "no such …"
        return False
    elif cls is None or any(n not in people or not scope.covers(people[n].agency) for n in numbers[:2]):
        print(app.texts.get("classes.sub.unreachable", lang, agencies="、".join(sorted(scope.agencies)) or "—"))
    else:
        return False
    await record(session, actor=f"cli:{numbers[2]}", actor_employee_id=actor.id if actor else None, action=SUB_ACTION,
                 target=f"{args_target(cls, numbers)}", allowed=False, now=app.clock.now(), detail="out of scope")
    return True


def args_target(cls: TrainingClass | None, numbers: list[str]) -> str:
    """The audit's target of a substitution: ``CLASS A>B`` (``?`` for a class that was not found)."""
    return f"{cls.code if cls else '?'} {numbers[0]}>{numbers[1]}"


async def cmd_report_class(args: argparse.Namespace, settings: Settings) -> int:
    """Print a class's roster with its gender and agency split and each trainee's classes this year."""
    from bot.bootstrap import running_app
    from bot.services.classes import class_report, find_class

    async with running_app(settings) as app:
        async with app.sessions() as session:
            cls = await find_class(session, args.class_ref)
            if cls is None:
                print(f"abc-bot: no such class {args.class_ref}")
                return EXIT_REFUSED
            report = await class_report(session, cls, app.catalog)
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False))
        else:
            for line in report.lines():
                print(line)
        return EXIT_OK
