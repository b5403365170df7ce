"""What the HR commands share: exit codes, messages on stderr, employee numbers, import reports.

Exit codes: 0 done, 1 refused (a rejected file, an unknown employee, an existing output file), 2 usage or
a bad data file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.db.models.core import Employee
    from bot.services.common import ImportReport

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


def cli_actor(by: str | None = None) -> str:
    """Who runs a command, for the audit and the import history: ``cli:<HR employee number or login name>``."""
    if by:
        return f"cli:{by}"[:64]
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no login name (a container with a bare uid)
        return "cli"


def print_import(report: ImportReport, *, as_json: bool, counts: dict[str, int]) -> int:
    """Print an import's report (text or one JSON object) and return the exit code."""
    if as_json:
        print(json.dumps({"file": report.path, "encoding": report.encoding, "rows": report.rows, **counts,
                          "duplicates": report.duplicates, "written": report.written,
                          "rejected": [{"line": e.line, "reason": e.message} for e in report.errors],
                          "warnings": report.warnings}, ensure_ascii=False))
        return EXIT_OK if report.ok else EXIT_REFUSED
    for w in report.warnings:
        err(f"warning: {w}")
    if not report.ok:
        err(f"{report.path}: rejected, nothing written. {len(report.errors)} row(s) with problems:")
        for e in report.errors:
            err(f"  line {e.line}: {e.message}")
        return EXIT_REFUSED
    summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
    verb = "would be" if not report.written else "done"
    print(f"{report.path} ({report.encoding}, {report.rows} rows): {verb}: {summary}"
          + (f"; {report.duplicates} duplicate row(s) ignored" if report.duplicates else ""))
    return EXIT_OK


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
