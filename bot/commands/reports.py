"""HR reports to hand on (docs/cli.md): ``report unbound``, ``report compliance``, and who may see which.

* ``abc-bot report unbound [--agency X] [--by HR_EMPLOYEE_NO] [--json] [--out FILE.csv|FILE.xlsx] [--lang L]``
* ``abc-bot report compliance [--agency X] [--by HR_EMPLOYEE_NO] [--year Y] [--json] [--out FILE] [--lang L]``

``--by`` (also of ``report hours``) names the HR officer the report is for: agency HR sees only their
agency, a city admin everything, anyone else nothing (exit 1, one sentence that names no other agency).
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import CommandGroups
from bot.commands.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, agency_known, employee_named, err, report_format

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings

REFUSED = "abc-bot: {who} may not see this report (it needs the agency HR role for that agency, or city admin)"


async def report_scope(session: AsyncSession, *, by: str | None, agency: str | None, action: str,
                       now: datetime) -> tuple[bool, str | None]:
    """Whose report it is: (allowed, the agency it is limited to; None = the whole city); says why when not.

    An agency no one on the roster belongs to is refused too (naming the known ones), so every report
    checks scope and agency in one call.

    Without ``--by`` the command line is trusted (as every admin command is). With it, an agency HR officer
    of one agency gets that agency; of several, must pick one of them with ``--agency``. The decision is
    audited; a refusal reads the same whether the agency exists or not.
    """
    from bot.services.accounts import record, scope_of

    if by is None:
        return agency is None or await agency_known(session, agency), agency
    employee = await employee_named(session, by)
    if employee is None:
        return False, None
    scope = await scope_of(session, employee)
    chosen = agency
    if not scope.city and agency is None and len(scope.agencies) == 1:
        chosen = next(iter(scope.agencies))
    allowed = scope.is_hr and (scope.city or (chosen is not None and scope.covers(chosen)))
    await record(session, actor=f"cli:{employee.employee_no}", actor_employee_id=employee.id, action=action,
                 target=chosen or "city", allowed=allowed, now=now)
    await session.commit()
    if not allowed:
        if scope.agencies and agency is None:
            err(f"abc-bot: {employee.employee_no} is agency HR of several agencies: choose one with --agency "
                f"({'、'.join(sorted(scope.agencies))})")
        else:
            err(REFUSED.format(who=employee.employee_no))
        return False, chosen
    return chosen is None or await agency_known(session, chosen), chosen


def _write(out: Path, fmt: str, sheets: Sequence[tuple[str, str, str, list[str], list[list[str]], list[bool]]]) -> None:
    """Write (name, title, as_of, header, rows, numeric) sheets: one workbook, or CSV files (the second beside)."""
    if fmt == "xlsx":
        from bot.services.hours.sheets import add_sheet, new_workbook

        wb = new_workbook()
        for name, title, as_of, header, rows, numeric in sheets:
            add_sheet(wb, name, title, as_of, header, rows, numeric)
        wb.save(out)
        return
    from bot.services.common import excel_safe

    for i, (_name, _title, _as_of, header, rows, _numeric) in enumerate(sheets):
        path = out if i == 0 else out.with_name(f"{out.stem}.agencies{out.suffix or '.csv'}")
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows([excel_safe(c) for c in row] for row in rows)


def _pct(rate: object) -> str:
    from fractions import Fraction

    return f"{float(rate * 100):.1f}" if isinstance(rate, Fraction) else ""


async def cmd_report_unbound(args: argparse.Namespace, settings: Settings) -> int:
    """Who has not bound a chat account yet, per agency (text, JSON, or a CSV/xlsx file)."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.dates import format_roc
    from bot.services.accounts import build_unbound, unbound_json

    fmt = report_format(args.format, args.out) if args.out else None
    if args.out and fmt is None:
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app:
        async with app.sessions() as session:
            allowed, agency = await report_scope(session, by=args.by, agency=args.agency, action="report.unbound",
                                                 now=app.clock.now())
            if not allowed:
                return EXIT_REFUSED
            today = taipei_today(app.clock)
            report = await build_unbound(session, today=today, agencies=frozenset({agency}) if agency else None)

        def t(key: str) -> str:
            return app.texts.get(key, args.lang)

        if args.json:
            print(json.dumps({"agency": agency, **unbound_json(report)}, ensure_ascii=False))
        if args.out:
            scope = agency or t("report.total")
            as_of = t("reports.as_of").format(date=format_roc(today) if args.lang == "zh-TW" else today.isoformat())
            title = t("reports.title.unbound").format(scope=scope)
            people = [[e.employee_no, e.name, e.agency, e.unit] for e in report.unbound]
            agencies = [[a.agency or t("report.total"), str(a.active), str(a.bound), str(a.unbound), _pct(a.rate)]
                        for a in [*report.agencies, report.total]]
            _write(args.out, str(fmt), [
                (t("reports.sheet.unbound"), title, as_of,
                 [t("report.col.employee_no"), t("report.col.name"), t("report.col.agency"), t("report.col.unit")],
                 people, [False] * 4),
                (t("report.sheet.agencies"), title, as_of,
                 [t("report.col.agency"), t("reports.col.active"), t("reports.col.bound"), t("reports.col.unbound"),
                  t("reports.col.bound_rate")], agencies, [False, True, True, True, True])])
        if not args.json:
            for a in report.agencies:
                print(f"{a.agency}: {a.unbound} of {a.active} not bound")
            print(f"total: {report.total.unbound} of {report.total.active} active employee(s) not bound"
                  + (f"; written to {args.out}" if args.out else ""))
    return EXIT_OK


async def cmd_report_compliance(args: argparse.Namespace, settings: Settings) -> int:
    """The mandatory hours by the 9/30 deadline: met, missed, not yet, per employee and agency."""
    from bot.bootstrap import running_app
    from bot.clock import taipei_today
    from bot.commands.common import rules_of_year
    from bot.dates import format_roc
    from bot.services.hours import build_compliance, compliance_json, format_hours

    fmt = report_format(args.format, args.out) if args.out else None
    if args.out and fmt is None:
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app:
        rules = rules_of_year(settings, app.rules, args.year)
        if rules is None:
            return EXIT_USAGE
        async with app.sessions() as session:
            allowed, agency = await report_scope(session, by=args.by, agency=args.agency,
                                                 action="report.compliance", now=app.clock.now())
            if not allowed:
                return EXIT_REFUSED
            today = taipei_today(app.clock)
            report = await build_compliance(session, rules, today=today,
                                            agencies=frozenset({agency}) if agency else None)

        def t(key: str) -> str:
            return app.texts.get(key, args.lang)

        if args.json:
            print(json.dumps({"agency": agency, **compliance_json(report)}, ensure_ascii=False))
        if args.out:
            zh = args.lang == "zh-TW"
            day = format_roc(report.deadline) if zh else report.deadline.isoformat()
            title = t("reports.title.compliance").format(year=report.plan_year, deadline=day,
                                                         scope=agency or t("report.total"))
            as_of = t("reports.as_of").format(date=format_roc(today) if zh else today.isoformat())
            people = [[r.employee_no, r.name, r.agency, r.unit, format_hours(r.required),
                       format_hours(r.done_by_deadline), format_hours(r.done_after), t(f"reports.status.{r.status}")]
                      for r in report.rows]
            agencies = [[a.agency or t("report.total"), str(a.subject), str(a.met), str(a.missed), str(a.open),
                         _pct(a.rate)] for a in [*report.agencies, report.total]]
            _write(args.out, str(fmt), [
                (t("reports.sheet.compliance"), title, as_of,
                 [t("report.col.employee_no"), t("report.col.name"), t("report.col.agency"), t("report.col.unit"),
                  t("reports.col.required"), t("reports.col.done_by_deadline"), t("reports.col.done_after"),
                  t("reports.col.status")], people, [False] * 4 + [True] * 3 + [False]),
                (t("report.sheet.agencies"), title, as_of,
                 [t("report.col.agency"), t("report.col.subject"), t("reports.col.met"), t("reports.col.missed"),
                  t("reports.col.open"), t("reports.col.met_rate")], agencies, [False] + [True] * 5)])
        if not args.json:
            total = report.total
            print(f"deadline {report.deadline.isoformat()}: {total.met} of {total.subject} met, {total.missed} missed, "
                  f"{total.open} not yet" + (f"; written to {args.out}" if args.out else ""))
    return EXIT_OK


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--agency", help="only this agency")
    p.add_argument("--by", metavar="HR_EMPLOYEE_NO", help="the HR officer it is for: limited to what their role covers")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--out", type=Path, metavar="FILE", help="also write it as CSV or xlsx (by the suffix)")
    p.add_argument("--format", choices=["csv", "xlsx"], help="default: from --out's suffix, else csv")
    p.add_argument("--lang", choices=["zh-TW", "en"], default="zh-TW", help="titles and columns of --out")


def register(groups: CommandGroups) -> None:
    """Add ``report unbound`` and ``report compliance``."""
    p = groups.report.add_parser("unbound", help="who has not bound a chat account yet, per agency")
    _common(p)
    p.set_defaults(func=cmd_report_unbound, log="WARNING")
    p = groups.report.add_parser("compliance", help="mandatory hours done by the deadline (9/30), or not")
    _common(p)
    p.add_argument("--year", type=int, metavar="Y", help="ROC plan year (default: PLAN_YEAR)")
    p.set_defaults(func=cmd_report_compliance, log="WARNING")
