"""Commands of the accounts feature (see docs/cli.md and docs/hours.md).

``import roster``, ``admin grant|revoke|roles|codes|unbind``; the hours commands are :mod:`bot.commands.hours`.
Exit codes: 0 done, 1 refused (a rejected file, an unknown employee, an existing output file), 2 usage or
a bad data file.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.commands import CommandGroups
from bot.commands.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    add_file_options,
    agency_known,
    cli_actor,
    employee_named,
    employee_number,
    err,
    output_exists,
    print_import,
    sayer,
)

if TYPE_CHECKING:

    from bot.bootstrap import Runtime
    from bot.config import Settings
    from bot.db.models.core import Employee
    from bot.services.accounts import BindingPolicy, RosterReport



async def cmd_import_roster(args: argparse.Namespace, settings: Settings) -> int:
    """Validate a roster CSV as a whole and upsert it in one transaction, as one undoable batch."""
    from bot.bootstrap import running_app
    from bot.db.engine import ImportBusy
    from bot.services.accounts import import_roster, load_import_limits, load_roster_mapping, record
    from bot.services.common import ImportFileError, Journal

    async with running_app(settings, demo=False) as app:
        mapping = load_roster_mapping(settings.data_dir, args.mapping)
        limits = load_import_limits(settings.data_dir).roster_deactivate
        actor, now = cli_actor(), app.clock.now()
        try:
            async with app.sessions() as session:
                journal = Journal(session)
                report = await import_roster(session, args.file, mapping=mapping, now=now,
                                             deactivate_missing=not args.partial, dry_run=args.dry_run,
                                             agency=args.agency, limits=limits,
                                             allow_deactivate=args.allow_deactivate, journal=journal, actor=actor,
                                             sheet=args.sheet)
                if report.ok and not args.dry_run:
                    batch = await journal.record(kind="roster", actor=actor, now=now, file=str(args.file),
                                                 digest=report.digest, counts=roster_counts(report))
                    report.batch_id = batch.id if batch else None
                    await session.commit()
                else:
                    await session.rollback()
        except (ImportFileError, ImportBusy) as exc:
            err(f"abc-bot: {exc}")
            return EXIT_REFUSED
        if report.refused and not args.dry_run:
            async with app.sessions.begin() as session:  # the refusal is audited; the import wrote nothing
                await record(session, actor=actor, actor_employee_id=None, action="import.roster",
                             target=str(args.file)[-200:], allowed=False, now=now, detail=report.refused)
        return print_import(report, as_json=args.json, counts=roster_counts(report), dry_run=args.dry_run,
                            extra=roster_json(report), say=sayer(app.texts, args.lang))


def roster_counts(report: RosterReport) -> dict[str, int]:
    """The counts of a roster import, in the order the report prints them."""
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "reactivated": report.reactivated, "deactivated": report.deactivated}


def roster_json(report: RosterReport) -> dict[str, Any]:
    """The roster import's own keys of ``--json`` (docs/cli.md)."""
    return {"scope": report.scope or None, "active": report.active,
            "deactivated_by_agency": {a: {"deactivated": n, "active": report.active_by_agency.get(a, 0)}
                                      for a, n in sorted(report.deactivated_by_agency.items())},
            "deactivated_employees": report.deactivated_employees,
            "transfers": [{"employee_no": t.employee_no, "from": t.from_agency, "to": t.to_agency,
                           "roles_ended": [{"role": "agency_hr", "agency": a} for a in t.roles_ended],
                           "regrant": [f"abc-bot admin grant {t.employee_no} --role agency_hr --agency {t.to_agency}"
                                       ] if t.roles_ended else []}
                          for t in report.transfers]}


async def cmd_admin_grant(args: argparse.Namespace, settings: Settings) -> int:
    """Grant agency HR (for an agency, by default the employee's own) or city admin."""
    from bot.bootstrap import running_app
    from bot.services.accounts import AGENCY_HR, grant

    async with running_app(settings, demo=False) as app:
        async with app.sessions.begin() as session:
            emp = await employee_named(session, args.employee_no)
            if emp is None:
                return EXIT_REFUSED
            agency = (args.agency or emp.agency) if args.role == AGENCY_HR else ""
            if args.agency and args.role == AGENCY_HR and not await agency_known(session, agency):
                return EXIT_REFUSED  # a typo would grant HR rights over an agency that does not exist
            new = await grant(session, emp, args.role, agency, now=app.clock.now(), by="cli")
        where = f" for {agency}" if agency else ""
        print(f"{emp.employee_no}: {args.role}{where} " + ("granted" if new else "was already granted"))
        return EXIT_OK


async def cmd_admin_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """Revoke a role (agency HR of one agency with --agency, else of all)."""
    from bot.bootstrap import running_app
    from bot.services.accounts import revoke

    async with running_app(settings, demo=False) as app:
        async with app.sessions.begin() as session:
            emp = await employee_named(session, args.employee_no)
            if emp is None:
                return EXIT_REFUSED
            removed = await revoke(session, emp, args.role, args.agency, now=app.clock.now(), by="cli")
        print(f"{emp.employee_no}: {removed} grant(s) of {args.role} revoked")
        return EXIT_OK


async def cmd_admin_roles(args: argparse.Namespace, settings: Settings) -> int:
    """List every HR role."""
    from bot.bootstrap import running_app
    from bot.services.accounts import list_roles

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


MAX_CODE_DAYS = 365
"""The longest a binding code may stay valid (--days; valid_days in data/accounts.yaml has the same limit)."""


async def cmd_admin_codes(args: argparse.Namespace, settings: Settings) -> int:
    """Issue one-time binding codes to a CSV file (the only place their plain text ever exists)."""
    from bot.bootstrap import running_app
    from bot.services.accounts import load_policy

    if not args.agency and not args.employee and not args.all:
        err("abc-bot: say whose codes: --agency X, --employee N (repeatable) or --all")
        return EXIT_USAGE
    if args.days is not None and not 1 <= args.days <= MAX_CODE_DAYS:  # -5 issued an expired code; 0 became 30
        err(f"abc-bot: --days must be a whole number of days from 1 to {MAX_CODE_DAYS}, not {args.days}")
        return EXIT_USAGE
    out: Path = args.out
    if output_exists(out) and not args.force:
        err(f"abc-bot: {out} exists; codes are secrets, so it is not overwritten (use --force)")
        return EXIT_REFUSED
    policy = load_policy(settings.data_dir)
    if args.days is not None:
        policy = policy.model_copy(update={"valid_days": args.days})
    async with running_app(settings, demo=False) as app:
        try:
            return await _issue_codes_file(app, args, policy, out)
        except OSError as exc:  # the transaction rolled back: no code was issued, older ones still work
            err(f"abc-bot: cannot write {exc.filename or out}: {exc.strerror or exc}; no codes issued")
            return EXIT_REFUSED


CODES_PER_TRANSACTION = 2000
"""Codes written per transaction (SQLite's write lock: ~0.2 s each on an idle machine)."""


def _codes_file(out: Path, employees: list[Employee], prepared: list[tuple[str, str]], expires: datetime,
                policy: BindingPolicy) -> None:
    """Write the codes file (mode 0600: it holds secrets), one row per employee."""
    import csv
    import os

    from bot.clock import TAIPEI
    from bot.dates import format_roc
    from bot.services.accounts import format_code
    from bot.services.common import excel_safe

    day = expires.astimezone(TAIPEI).date()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # --force over an existing file: the secrets are private all the same
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["employee_no", "name", "agency", "unit", "code", "expires_on", "expires_roc"])
        for employee, (code, _hashed) in zip(employees, prepared, strict=True):
            writer.writerow([employee.employee_no, excel_safe(employee.name), excel_safe(employee.agency),
                             excel_safe(employee.unit), format_code(code, policy), day.isoformat(), format_roc(day)])


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A one-line progress bar on stderr (``label  [#####.....] 1200/30000``), for a terminal."""
    import sys

    def show(done: int, total: int) -> None:
        filled = 30 * done // max(total, 1)
        print(f"\r{label}  [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)

    return show


async def _issue_codes_file(app: Runtime, args: argparse.Namespace, policy: BindingPolicy, out: Path) -> int:
    """Issue the codes and write the CSV in one transaction (an OSError while writing rolls it back)."""
    import asyncio
    import os
    import sys

    from bot.services.accounts import employees_for_codes, issue_codes, prepare_codes

    async with app.sessions() as session:  # read only: no lock is held while the codes are hashed
        if args.agency and not await agency_known(session, args.agency):
            return EXIT_REFUSED
        numbers: list[str] | None = None
        if args.employee:
            numbers = [n for n in (employee_number(x) for x in args.employee) if n]
            if len(numbers) != len(args.employee):
                return EXIT_USAGE
        employees = await employees_for_codes(session, agency=args.agency, numbers=numbers,
                                              unbound_only=args.unbound_only)
        if numbers is not None:
            found = {e.employee_no for e in employees}
            missing = [n for n in numbers if n not in found]
            if missing:
                err(f"abc-bot: not on the roster (or inactive): {', '.join(missing)}; no codes issued")
                return EXIT_REFUSED
        session.expunge_all()
    bar = progress_bar("hashing codes") if sys.stderr.isatty() else None
    prepared = await asyncio.to_thread(prepare_codes, len(employees), policy, workers=os.cpu_count() or 1,
                                       progress=bar)
    if bar is not None:
        print(file=sys.stderr)
    now = app.clock.now()
    expires = now + timedelta(days=policy.valid_days)
    _codes_file(out, employees, prepared, expires, policy)  # first: a file that cannot be written issues nothing
    done = 0
    try:  # short transactions: a chat waits for one batch at most, never for the whole city
        for start in range(0, len(employees), CODES_PER_TRANSACTION):
            async with app.sessions.begin() as session:
                await issue_codes(session, employees[start:start + CODES_PER_TRANSACTION], policy=policy, now=now,
                                  batch=f"{now:%Y%m%dT%H%M%S}",
                                  prepared=prepared[start:start + CODES_PER_TRANSACTION])
            done = min(start + CODES_PER_TRANSACTION, len(employees))
    except Exception as exc:
        _codes_file(out, employees[:done], prepared[:done], expires, policy)  # only the codes that work
        err(f"abc-bot: the database failed after {done} of {len(employees)} codes ({type(exc).__name__}); {out} "
            f"lists those {done}, which work; issue the others again (e.g. with --unbound-only)")
        return EXIT_REFUSED
    print(f"{len(employees)} code(s) written to {out} (valid {policy.valid_days} days; older unused codes "
          "of these employees no longer work)")
    return EXIT_OK


async def cmd_admin_unbind(args: argparse.Namespace, settings: Settings) -> int:
    """Unbind every chat account of an employee (e.g. a lost phone)."""
    from bot.bootstrap import running_app
    from bot.services.accounts import record, unbind_employee

    async with running_app(settings, demo=False) as app:
        async with app.sessions.begin() as session:
            emp = await employee_named(session, args.employee_no)
            if emp is None:
                return EXIT_REFUSED
            count = await unbind_employee(session, emp)
            await record(session, actor="cli", actor_employee_id=None, action="accounts.unbind",
                         target=emp.employee_no, allowed=True, now=app.clock.now(), detail=f"{count} account(s)")
        print(f"{emp.employee_no}: {count} chat account(s) unbound")
        return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
    p = groups.imports.add_parser("roster", help="import the staff roster (CSV): validate, upsert, deactivate missing")
    p.add_argument("file", type=Path, metavar="FILE.csv|FILE.xlsx")
    p.add_argument("--mapping", type=Path, metavar="MAP.yaml", help="header names of your file (see data/imports/)")
    add_file_options(p)
    p.add_argument("--partial", action="store_true",
                   help="a partial list: add and update only, never mark anyone inactive")
    p.add_argument("--agency", metavar="X",
                   help="the file is agency X's staff list: every row must be of X; only X's staff missing from it "
                        "are marked inactive")
    p.add_argument("--allow-deactivate", action="store_true",
                   help="mark inactive even more people than data/import_limits.yaml allows (after a dry run)")
    p.add_argument("--dry-run", action="store_true", help="validate and say what would change, write nothing")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=cmd_import_roster, log="WARNING")

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
    p.add_argument("--days", type=int, help="days a code stays valid, 1-365 (default: data/accounts.yaml)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    p.add_argument("--force", action="store_true", help="overwrite FILE.csv")
    p.set_defaults(func=cmd_admin_codes, log="WARNING")

    p = groups.admin.add_parser("unbind", help="unbind every chat account of an employee")
    p.add_argument("employee_no", metavar="EMPLOYEE_NO")
    p.set_defaults(func=cmd_admin_unbind, log="WARNING")
