"""What the HR commands share: exit codes, messages on stderr, employee numbers, import reports.

Exit codes: 0 done, 1 refused (a rejected file, an unknown employee, an existing output file), 2 usage (a plan
year without rules, a report format that contradicts its file name) or a bad data file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.db.models.core import Employee
    from bot.services.catalog import RulesFile
    from bot.services.common import ImportReport, Say
    from bot.texts import MessageCatalog

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def err(text: str) -> None:
    """Say something on standard error."""
    print(text, file=sys.stderr)


def employee_number(text: str) -> str | None:
    """An employee number from the command line, or None (and a message) when it cannot be one."""
    from bot.services.common import parse_employee_no

    try:
        return parse_employee_no(text)
    except ValueError as exc:
        err(f"abc-bot: {exc}")
        return None


async def employee_named(session: AsyncSession, text: str) -> Employee | None:
    """The employee a command names, or None after saying why (not a number, not on the roster)."""
    from bot.services.accounts import find_employee

    number = employee_number(text)
    employee = await find_employee(session, number) if number else None
    if employee is None and number:
        err(f"abc-bot: employee {text} is not on the roster")
    return employee


FUTURE = {"added": "add {n}", "updated": "update {n}", "unchanged": "leave {n} unchanged",
          "reactivated": "reactivate {n}", "deactivated": "mark {n} inactive", "replaced": "replace {n}"}
"""How a dry run says what an import would do."""


def cli_actor(by: str | None = None) -> str:
    """Who runs a command, for the audit and the import history: ``cli:<HR employee number or login name>``."""
    if by:
        return f"cli:{by}"[:64]
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no login name (a container with a bare uid)
        return "cli"


def batch_note(batch_id: int | None) -> str:
    """``(batch 7; undo: abc-bot import undo 7)``, or a note that nothing changed."""
    if batch_id is None:
        return " (nothing changed, so no batch was recorded)"
    return f" (batch {batch_id}; to undo it: abc-bot import undo {batch_id})"


def add_file_options(p: argparse.ArgumentParser, *, skip_unknown: bool = False) -> None:
    """Options of every HR file import: ``--sheet``, ``--lang`` (``--skip-unknown`` where rows name employees)."""
    p.add_argument("--sheet", metavar="NAME_OR_N", help="of an .xlsx workbook: the sheet to read (default: the first)")
    p.add_argument("--lang", choices=["zh-TW", "en"], default="zh-TW", help="language of the problems found")
    if skip_unknown:
        p.add_argument("--skip-unknown", action="store_true",
                       help="leave out (and list) rows of employees not on the roster instead of rejecting the file")


def sayer(texts: MessageCatalog, lang: str) -> Say:
    """``say(key, **values)`` in ``lang``, for the problems of an HR file."""
    return lambda key, **values: texts.get(key, lang, **values)


def row_text(line: int, message: str, problems: Any, say: Say | None) -> str:
    """A rejected row for a person: its cells' problems in the reader's language, else its English message."""
    if say is None:
        return f"line {line}: {message}"
    from bot.services.common import describe

    return describe(line, problems, say) if problems else say("imports.where.row", line=line, reasons=message)


def skipped_text(skipped: list[tuple[int, str]], say: Say) -> str:
    """The rows ``--skip-unknown`` left out, in one line."""
    rows = say("imports.join").join(say("imports.skipped_row", line=n, employee_no=no) for n, no in skipped)
    return say("imports.skipped_unknown", n=len(skipped), rows=rows)


def print_import(report: ImportReport, *, as_json: bool, counts: dict[str, int], dry_run: bool = False,
                 extra: dict[str, Any] | None = None, say: Say | None = None) -> int:
    """Print an import's report (text or one JSON object) and return the exit code.

    ``extra``: more keys of the JSON object (the importer's own); a refusal (``report.refused``) exits 1
    like a rejected file, and a dry run speaks of what the import *would* do. ``say``: the reader's
    language for the rejected rows (``--lang``); each names the file's own header and cell.
    """
    if as_json:
        print(json.dumps({"file": report.path, "encoding": report.encoding, "rows": report.rows, **counts,
                          "duplicates": report.duplicates, "written": report.written,
                          "rejected": [{"line": e.line, "reason": e.message,
                                        "message": row_text(e.line, e.message, e.problems, say),
                                        "cells": [{"column": p.header, "cell": p.cell} for p in e.problems if p.cell]}
                                       for e in report.errors],
                          "skipped": [{"line": n, "employee_no": no} for n, no in report.skipped],
                          "warnings": report.warnings, "dry_run": dry_run, "batch": report.batch_id,
                          "refused": report.refused or None, **(extra or {})}, ensure_ascii=False))
        return EXIT_OK if report.ok else EXIT_REFUSED
    for w in report.warnings:
        err(f"warning: {w}")
    if report.errors:
        if say is None:
            err(f"{report.path}: rejected, nothing written. {len(report.errors)} row(s) with problems:")
        else:
            err(say("imports.rejected", path=report.path, n=len(report.errors)))
        for e in report.errors:
            err(f"  {row_text(e.line, e.message, e.problems, say)}")
        return EXIT_REFUSED
    if report.skipped and say is not None:
        err(skipped_text(report.skipped, say))
    if report.refused:
        err(f"{report.path}: refused, nothing written: {report.refused}")
        return EXIT_REFUSED
    dupes = f"; {report.duplicates} duplicate row(s) ignored" if report.duplicates else ""
    head = f"{report.path} ({report.encoding}, {report.rows} rows)"
    if dry_run:
        summary = ", ".join(FUTURE.get(k, k + " {n}").format(n=v) for k, v in counts.items())
        print(f"{head}: dry run, nothing was written; the import would {summary}{dupes}")
        return EXIT_OK
    summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
    print(f"{head}: done: {summary}{dupes}{batch_note(report.batch_id)}")
    return EXIT_OK


def rules_of_year(settings: Settings, default: RulesFile, year: int | None) -> RulesFile | None:
    """The rules of plan year ``year`` (``default`` when None), or None after saying plainly that there are none.

    A year without ``data/plans/<year>/rules.yaml`` is a wrong ``--year`` (exit 2), not a broken data file.
    """
    from bot.services.catalog import load_rules, plan_dir, plan_years

    if year is None or year == default.year:
        return default
    if not (plan_dir(settings.data_dir, year) / "rules.yaml").is_file():
        known = ", ".join(str(y) for y in plan_years(settings.data_dir)) or "none"
        err(f"abc-bot: plan year {year} has no rules here (no plans/{year}/rules.yaml in {settings.data_dir}); "
            f"plan years with rules: {known}")
        return None
    return load_rules(settings.data_dir, year)


def report_format(fmt: str | None, out: Path) -> str | None:
    """The report's format: ``--format``, else from the suffix of ``--out``; None (after saying why) when they disagree.

    ``--format csv --out x.xlsx`` would write CSV text into a file Excel then refuses to open.
    """
    suffix = out.suffix.lower().lstrip(".")
    if fmt is None:
        return "xlsx" if suffix == "xlsx" else "csv"
    if suffix in ("csv", "xlsx") and suffix != fmt:
        err(f"abc-bot: --format {fmt} but --out {out} ends in .{suffix}: name it {out.with_suffix('.' + fmt).name} "
            f"or leave --format out")
        return None
    return fmt


def output_exists(path: Path) -> bool:
    """``path.exists()`` outside the async function (one stat of a local file; ruff ASYNC240 otherwise)."""
    return path.exists()


async def agency_known(session: AsyncSession, agency: str) -> bool:
    """True when some employee (active or not) of ``agency`` is on the roster; else says so on stderr."""
    from bot.services.accounts import roster_agencies

    agencies = await roster_agencies(session)
    if agency not in agencies:
        err(f"abc-bot: no employee of agency {agency!r} is on the roster (agencies: {'、'.join(agencies) or '-'})")
    return agency in agencies
