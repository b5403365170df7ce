"""Commands of the accounts and hours feature (see docs/cli.md and docs/hours.md).

``import roster``, ``import hours``, ``admin grant|revoke|roles|codes|unbind``, ``hours``, ``report hours``.
Exit codes: 0 done, 1 refused (a rejected file, an unknown employee, an existing output file), 2 usage or
a bad data file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import CommandGroups

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.bootstrap import App
    from bot.config import Settings
    from bot.db.models import Employee
    from bot.services.binding import BindingPolicy
    from bot.services.csvio import ImportReport
    from bot.texts import MessageCatalog

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _number(text: str) -> str | None:
    """An employee number from the command line, or None (and a message) when it cannot be one."""
    from bot.services.csvio import parse_employee_no

    try:
        return parse_employee_no(text)
    except ValueError as exc:
        _err(f"abc-bot: {exc}")
        return None


async def _employee(session: AsyncSession, text: str) -> Employee | None:
    """The employee a command names, or None after saying why (not a number, not on the roster)."""
    from bot.services.accounts import find_employee

    number = _number(text)
    employee = await find_employee(session, number) if number else None
    if employee is None and number:
        _err(f"abc-bot: employee {text} is not on the roster")
    return employee


def _print_import(report: ImportReport, *, as_json: bool, counts: dict[str, int]) -> int:
    if as_json:
        print(json.dumps({"file": report.path, "encoding": report.encoding, "rows": report.rows, **counts,
                          "duplicates": report.duplicates, "written": report.written,
                          "rejected": [{"line": e.line, "reason": e.message} for e in report.errors],
                          "warnings": report.warnings}, ensure_ascii=False))
        return EXIT_OK if report.ok else EXIT_REFUSED
    for w in report.warnings:
        _err(f"warning: {w}")
    if not report.ok:
        _err(f"{report.path}: rejected, nothing written. {len(report.errors)} row(s) with problems:")
        for e in report.errors:
            _err(f"  line {e.line}: {e.message}")
        return EXIT_REFUSED
    summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
    verb = "would be" if not report.written else "done"
    print(f"{report.path} ({report.encoding}, {report.rows} rows): {verb}: {summary}"
          + (f"; {report.duplicates} duplicate row(s) ignored" if report.duplicates else ""))
    return EXIT_OK


async def cmd_import_roster(args: argparse.Namespace, settings: Settings) -> int:
    """Validate a roster CSV as a whole and upsert it in one transaction."""
    from bot.bootstrap import running_app
    from bot.db.engine import ImportBusy
    from bot.services.csvio import ImportFileError
    from bot.services.roster import import_roster, load_roster_mapping

    async with running_app(settings, demo=False) as app:
        mapping = load_roster_mapping(settings.data_dir, args.mapping)
        try:
            async with app.sessions() as session:
                report = await import_roster(session, args.file, mapping=mapping, now=app.clock.now(),
                                             deactivate_missing=not args.partial, dry_run=args.dry_run)
                await (session.commit() if report.ok and not args.dry_run else session.rollback())
        except (ImportFileError, ImportBusy) as exc:
            _err(f"abc-bot: {exc}")
            return EXIT_REFUSED
        return _print_import(report, as_json=args.json, counts={
            "added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "reactivated": report.reactivated, "deactivated": report.deactivated})


async def cmd_import_hours(args: argparse.Namespace, settings: Settings) -> int:
    """Validate a learning-hours CSV as a whole and upsert its records in one transaction."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.db.engine import ImportBusy
    from bot.services.csvio import ImportFileError
    from bot.services.hours_import import import_hours, load_hours_mapping

    async with running_app(settings, demo=False) as app:
        mapping = load_hours_mapping(settings.data_dir, args.mapping)
        try:
            async with app.sessions() as session:
                report = await import_hours(session, args.file, mapping=mapping, rules=app.rules,
                                            today=taipei_today(app.clock), now=app.clock.now(),
                                            default_source=args.source, dry_run=args.dry_run)
                await (session.commit() if report.ok and not args.dry_run else session.rollback())
        except (ImportFileError, ImportBusy) as exc:
            _err(f"abc-bot: {exc}")
            return EXIT_REFUSED
        if report.ok and report.other_years:
            report.warnings.append(f"{report.other_years} record(s) dated outside plan year {app.rules.year}")
        return _print_import(report, as_json=args.json, counts={
            "added": report.added, "updated": report.updated, "unchanged": report.unchanged})


async def cmd_admin_grant(args: argparse.Namespace, settings: Settings) -> int:
    """Grant agency HR (for an agency, by default the employee's own) or city admin."""
    from bot.bootstrap import running_app
    from bot.services.roles import AGENCY_HR, grant

    async with running_app(settings, demo=False) as app:
        async with app.sessions.begin() as session:
            emp = await _employee(session, args.employee_no)
            if emp is None:
                return EXIT_REFUSED
            agency = (args.agency or emp.agency) if args.role == AGENCY_HR else ""
            if args.agency and args.role == AGENCY_HR and not await _agency_known(session, agency):
                return EXIT_REFUSED  # a typo would grant HR rights over an agency that does not exist
            new = await grant(session, emp, args.role, agency, now=app.clock.now(), by="cli")
        where = f" for {agency}" if agency else ""
        print(f"{emp.employee_no}: {args.role}{where} " + ("granted" if new else "was already granted"))
        return EXIT_OK


async def cmd_admin_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """Revoke a role (agency HR of one agency with --agency, else of all)."""
    from bot.bootstrap import running_app
    from bot.services.roles import revoke

    async with running_app(settings, demo=False) as app:
        async with app.sessions.begin() as session:
            emp = await _employee(session, args.employee_no)
            if emp is None:
                return EXIT_REFUSED
            removed = await revoke(session, emp, args.role, args.agency, now=app.clock.now(), by="cli")
        print(f"{emp.employee_no}: {removed} grant(s) of {args.role} revoked")
        return EXIT_OK


async def cmd_admin_roles(args: argparse.Namespace, settings: Settings) -> int:
    """List every HR role."""
    from bot.bootstrap import running_app
    from bot.services.roles import list_roles

    async with running_app(settings, demo=False) as app:
        async with app.sessions() as session:
            rows = await list_roles(session)
        items = [{"employee_no": e.employee_no, "name": e.name, "role": r.role, "agency": r.agency,
                  "granted_at": r.granted_at.isoformat(), "granted_by": r.granted_by} for e, r in rows]
        if args.json:
            print(json.dumps(items, ensure_ascii=False))
        else:
            for i in items:
                print(f"{i['employee_no']}\t{i['name']}\t{i['role']}\t{i['agency']}")
        return EXIT_OK


async def cmd_admin_codes(args: argparse.Namespace, settings: Settings) -> int:
    """Issue one-time binding codes to a CSV file (the only place their plain text ever exists)."""
    from bot.bootstrap import running_app
    from bot.services.binding import load_policy

    if not args.agency and not args.employee and not args.all:
        _err("abc-bot: say whose codes: --agency X, --employee N (repeatable) or --all")
        return EXIT_USAGE
    out: Path = args.out
    if _exists(out) and not args.force:
        _err(f"abc-bot: {out} exists; codes are secrets, so it is not overwritten (use --force)")
        return EXIT_REFUSED
    policy = load_policy(settings.data_dir)
    if args.days:
        policy = policy.model_copy(update={"valid_days": args.days})
    async with running_app(settings, demo=False) as app:
        try:
            return await _issue_codes_file(app, args, policy, out)
        except OSError as exc:  # the transaction rolled back: no code was issued, older ones still work
            _err(f"abc-bot: cannot write {exc.filename or out}: {exc.strerror or exc}; no codes issued")
            return EXIT_REFUSED


async def _issue_codes_file(app: App, args: argparse.Namespace, policy: BindingPolicy, out: Path) -> int:
    """Issue the codes and write the CSV in one transaction (an OSError while writing rolls it back)."""
    import csv
    import os

    from bot.clock import TAIPEI
    from bot.dates import format_roc
    from bot.services.binding import format_code, issue_codes
    from bot.services.csvio import excel_safe
    from bot.services.roster import employees_for_codes

    async with app.sessions.begin() as session:
        if args.agency and not await _agency_known(session, args.agency):
            return EXIT_REFUSED
        numbers: list[str] | None = None
        if args.employee:
            numbers = [n for n in (_number(x) for x in args.employee) if n]
            if len(numbers) != len(args.employee):
                return EXIT_USAGE
        employees = await employees_for_codes(session, agency=args.agency, numbers=numbers,
                                              unbound_only=args.unbound_only)
        if numbers is not None:
            found = {e.employee_no for e in employees}
            missing = [n for n in numbers if n not in found]
            if missing:
                _err(f"abc-bot: not on the roster (or inactive): {', '.join(missing)}; no codes issued")
                return EXIT_REFUSED
        now = app.clock.now()
        issued = await issue_codes(session, employees, policy=policy, now=now, batch=f"{now:%Y%m%dT%H%M%S}")
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # --force over an existing file: the secrets are private all the same
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["employee_no", "name", "agency", "unit", "code", "expires_on", "expires_roc"])
            for item in issued:
                day = item.expires_at.astimezone(TAIPEI).date()
                writer.writerow([item.employee.employee_no, excel_safe(item.employee.name),
                                 excel_safe(item.employee.agency), excel_safe(item.employee.unit),
                                 format_code(item.code, policy), day.isoformat(), format_roc(day)])
    print(f"{len(issued)} code(s) written to {out} (valid {policy.valid_days} days; older unused codes "
          "of these employees no longer work)")
    return EXIT_OK


async def cmd_admin_unbind(args: argparse.Namespace, settings: Settings) -> int:
    """Unbind every chat account of an employee (e.g. a lost phone)."""
    from bot.bootstrap import running_app
    from bot.services.binding import unbind_employee
    from bot.services.roles import record

    async with running_app(settings, demo=False) as app:
        async with app.sessions.begin() as session:
            emp = await _employee(session, args.employee_no)
            if emp is None:
                return EXIT_REFUSED
            count = await unbind_employee(session, emp)
            await record(session, actor="cli", actor_employee_id=None, action="accounts.unbind",
                         target=emp.employee_no, allowed=True, now=app.clock.now(), detail=f"{count} account(s)")
        print(f"{emp.employee_no}: {count} chat account(s) unbound")
        return EXIT_OK


async def cmd_hours(args: argparse.Namespace, settings: Settings) -> int:
    """One employee's hours status (text, or the JSON contract with --json)."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.dates import format_roc
    from bot.services.accounts import find_employee
    from bot.services.class_format import format_hours
    from bot.services.hours import load_status, status_to_json
    from bot.services.rules import load_rules

    async with running_app(settings, demo=False) as app:
        rules = load_rules(settings.data_dir, args.year) if args.year else app.rules
        async with app.sessions() as session:
            number = _number(args.employee_no)
            if number is None:
                return EXIT_USAGE
            emp = await find_employee(session, number)
            if emp is None:
                _err(f"abc-bot: employee {number} is not on the roster")
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
                  f"  counted {format_hours(b.counted):>5}  remaining {format_hours(b.remaining):>5}")
        print(f"  {'total':<12} required {format_hours(status.required):>5}"
              f"  done {format_hours(status.done):>5}  counted {format_hours(status.counted):>5}"
              f"  remaining {format_hours(status.remaining):>5}")
        for d in status.deadlines:
            left = "passed" if d.passed else f"{d.days_left} days left"
            print(f"  {d.id}: {format_roc(d.date)} ({left}), {format_hours(d.remaining)} h to go")
        for r in status.records:
            mark = "" if r.credited else f"  NOT COUNTED: {_reason(app.texts, r.forfeit_reason, settings.default_lang)}"
            print(f"    {format_roc(r.occurred_on):<11} {r.source:<6} {r.bucket:<11} {format_hours(r.hours):>5}"
                  f"  {r.title}{mark}")
        return EXIT_OK


def _reason(texts: MessageCatalog, key: str | None, lang: str) -> str:
    """A forfeit reason as people read it (the key itself when this version does not know it)."""
    from bot.services.hours import forfeit_reason_text

    return forfeit_reason_text(lambda k, **v: texts.get(k, lang, **v), key) or (key or "")


def _exists(path: Path) -> bool:
    """``path.exists()`` outside the async function (one stat of a local file; ruff ASYNC240 otherwise)."""
    return path.exists()


async def _agency_known(session: AsyncSession, agency: str) -> bool:
    """True when some employee (active or not) of ``agency`` is on the roster; else says so on stderr."""
    from bot.services.roster import roster_agencies

    agencies = await roster_agencies(session)
    if agency not in agencies:
        _err(f"abc-bot: no employee of agency {agency!r} is on the roster (agencies: {'、'.join(agencies) or '-'})")
    return agency in agencies


async def cmd_report_hours(args: argparse.Namespace, settings: Settings) -> int:
    """The HR report: employees by hours remaining, and agency completion rates, as CSV or xlsx."""
    import time

    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.services.reports import build_report, write_csv, write_xlsx
    from bot.services.rules import load_rules

    fmt = args.format or ("xlsx" if args.out.suffix.lower() == ".xlsx" else "csv")
    async with running_app(settings, demo=False) as app:
        started = time.perf_counter()
        rules = load_rules(settings.data_dir, args.year) if args.year else app.rules
        async with app.sessions() as session:
            if args.agency is not None and not await _agency_known(session, args.agency):
                return EXIT_REFUSED
            report = await build_report(session, rules, today=taipei_today(app.clock), agency=args.agency,
                                        include_inactive=args.include_inactive)
        lang = args.lang

        def t(key: str) -> str:
            return app.texts.get(key, lang)

        try:
            paths = (write_xlsx if fmt == "xlsx" else write_csv)(report, args.out, t, lang)
        except OSError as exc:
            _err(f"abc-bot: cannot write {exc.filename or args.out}: {exc.strerror or exc}")
            return EXIT_REFUSED
        took = time.perf_counter() - started
        total = report.total
        rate = f"{float(total.rate * 100):.1f}%" if total.rate is not None else "n/a"
        print(f"{len(report.rows)} employee(s), {len(report.agencies)} agenc(ies); complete {total.complete}/"
              f"{total.subject} ({rate}); written to {', '.join(str(p) for p in paths)} in {took:.2f} s")
        return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
    p = groups.imports.add_parser("roster", help="import the staff roster (CSV): validate, upsert, deactivate missing")
    p.add_argument("file", type=Path, metavar="FILE.csv")
    p.add_argument("--mapping", type=Path, metavar="MAP.yaml", help="header names of your file (see data/imports/)")
    p.add_argument("--partial", action="store_true", help="a partial roster: do not mark missing employees inactive")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_import_roster, log="WARNING")

    p = groups.imports.add_parser("hours", help="import learning-hours records (CSV): idempotent by natural key")
    p.add_argument("file", type=Path, metavar="FILE.csv")
    p.add_argument("--mapping", type=Path, metavar="MAP.yaml", help="header names of your file (see data/imports/)")
    p.add_argument("--source", choices=["portal", "hr"], help="source of every row (overrides a source column)")
    p.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_import_hours, log="WARNING")

    p = groups.admin.add_parser("grant", help="grant an HR role")
    p.add_argument("employee_no", metavar="EMPLOYEE_NO")
    p.add_argument("--role", required=True, choices=["agency_hr", "city_admin"])
    p.add_argument("--agency", help="for agency_hr: the agency (default: the employee's own)")
    p.set_defaults(func=cmd_admin_grant, log="WARNING")

    p = groups.admin.add_parser("revoke", help="revoke an HR role")
    p.add_argument("employee_no", metavar="EMPLOYEE_NO")
    p.add_argument("--role", required=True, choices=["agency_hr", "city_admin"])
    p.add_argument("--agency", help="for agency_hr: only this agency (default: all)")
    p.set_defaults(func=cmd_admin_revoke, log="WARNING")

    p = groups.admin.add_parser("roles", help="list HR roles")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_admin_roles, log="WARNING")

    p = groups.admin.add_parser("codes", help="issue one-time account-binding codes to a CSV file")
    p.add_argument("--agency", help="every active employee of this agency")
    p.add_argument("--employee", action="append", metavar="N", help="this employee (repeatable)")
    p.add_argument("--all", action="store_true", help="every active employee")
    p.add_argument("--unbound-only", action="store_true", help="skip employees with a bound chat account")
    p.add_argument("--days", type=int, help="days a code stays valid (default: data/accounts.yaml)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    p.add_argument("--force", action="store_true", help="overwrite FILE.csv")
    p.set_defaults(func=cmd_admin_codes, log="WARNING")

    p = groups.admin.add_parser("unbind", help="unbind every chat account of an employee")
    p.add_argument("employee_no", metavar="EMPLOYEE_NO")
    p.set_defaults(func=cmd_admin_unbind, log="WARNING")

    p = groups.top.add_parser("hours", help="one employee's learning-hours status")
    p.add_argument("employee_no", metavar="EMPLOYEE_NO")
    p.add_argument("--json", action="store_true", help="the JSON contract of docs/cli.md")
    p.add_argument("--year", type=int, metavar="Y", help="ROC plan year (default: PLAN_YEAR)")
    p.set_defaults(func=cmd_hours, log="WARNING")

    p = groups.report.add_parser("hours", help="hours of every employee and agency completion rates")
    p.add_argument("--agency", help="only this agency")
    p.add_argument("--format", choices=["csv", "xlsx"], help="default: from --out's suffix, else csv")
    p.add_argument("--out", type=Path, required=True, metavar="FILE")
    p.add_argument("--year", type=int, metavar="Y", help="ROC plan year (default: PLAN_YEAR)")
    p.add_argument("--include-inactive", action="store_true", help="also employees no longer on the roster")
    p.add_argument("--lang", choices=["zh-TW", "en"], default="zh-TW", help="column titles")
    p.set_defaults(func=cmd_report_hours, log="WARNING")
