"""Commands of the classes feature: import classes and attendance, name a substitute, report a class.

* ``abc-bot import classes FILE [--dry-run] [--mapping M]`` (YAML or CSV; all or nothing)
* ``abc-bot import attendance FILE.csv [--dry-run] [--mapping M]``
* ``abc-bot admin substitute CLASS EMPLOYEE_NO SUBSTITUTE_NO [--by EMPLOYEE_NO]``
* ``abc-bot report class CLASS_ID [--json]``

Exit codes: 0 done, 1 refused (the reason is printed), 2 bad file or usage (the problems are printed).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from bot.commands import CommandGroups
from bot.config import Settings

EXIT_OK, EXIT_REFUSED = 0, 1


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
    p = groups.imports.add_parser("classes", help="create or update classes (班期) from a YAML or CSV file")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="check the file and show what would change; write nothing")
    p.add_argument("--mapping", type=Path, help="a CSV column mapping (default data/imports/classes.yaml)")
    p.set_defaults(func=cmd_import_classes, log="WARNING")

    p = groups.imports.add_parser("attendance", help="record attendance of classes and the hours it earns")
    p.add_argument("file", type=Path, metavar="FILE.csv")
    p.add_argument("--dry-run", action="store_true", help="check the file and show what would change; write nothing")
    p.add_argument("--mapping", type=Path, help="a CSV column mapping (default data/imports/attendance.yaml)")
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
    """Validate the whole file, then create or update every class in one transaction."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.services.classes import import_classes, load_enrollment_settings, read_classes_file

    async with running_app(settings) as app:
        spec = read_classes_file(args.file, plan_year=settings.plan_year, today=taipei_today(app.clock),
                                 mapping=args.mapping, data_dir=settings.data_dir)
        plan_settings = load_enrollment_settings(settings.data_dir, spec.plan_year)
        now = app.clock.now()
        try:
            async with app.sessions.begin() as session:
                report = await import_classes(session, spec, settings=plan_settings, deps=app.app.deps, now=now,
                                              batch=_batch("classes", now), source=str(args.file))
                if args.dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        for line in report.lines():
            print(line)
        if args.dry_run:
            print("dry run: nothing was written")
        return EXIT_OK


async def cmd_import_attendance(args: argparse.Namespace, settings: Settings) -> int:
    """Validate the whole file, then record attendance and learning-hours records in one transaction."""
    from bot.bootstrap import running_app
    from bot.services.classes import import_attendance, read_attendance_csv

    async with running_app(settings) as app:
        lines = read_attendance_csv(args.file, args.mapping, data_dir=settings.data_dir)
        now = app.clock.now()
        try:
            async with app.sessions.begin() as session:
                report = await import_attendance(session, lines, rules=app.rules, catalog=app.catalog,
                                                 settings=app.app.enrollment, now=now,
                                                 batch=_batch("attendance", now), source=str(args.file))
                if args.dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        print(f"attendance: {report.rows} rows, {report.attended} attended ({report.credited} credited, "
              f"{report.forfeited} without hours), {report.absent} absent; learning records "
              f"{report.records_created} created, {report.records_updated} updated, {report.records_removed} removed "
              f"(batch {report.batch})")
        if args.dry_run:
            print("dry run: nothing was written")
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
