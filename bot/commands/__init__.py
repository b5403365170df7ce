"""Feature sub-commands of ``abc-bot``: each feature module adds its commands to the shared groups.

A feature module defines ``register(groups: CommandGroups) -> None``; it must import nothing heavy at
module level (the parser is built on every start).
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass

FEATURE_MODULES = ("bot.commands.accounts", "bot.commands.hours", "bot.commands.classes", "bot.commands.line",
                   "bot.commands.batches", "bot.commands.understand", "bot.commands.certificates",
                   "bot.commands.telegram", "bot.commands.broadcast",
                   "bot.commands.reports", "bot.commands.reminders")


@dataclass(frozen=True)
class CommandGroups:
    """The top-level sub-parser and the shared command groups (``import``, ``admin``, ``report``, ``line``)."""

    top: argparse._SubParsersAction  # type: ignore[type-arg]
    imports: argparse._SubParsersAction  # type: ignore[type-arg]
    admin: argparse._SubParsersAction  # type: ignore[type-arg]
    report: argparse._SubParsersAction  # type: ignore[type-arg]
    line: argparse._SubParsersAction  # type: ignore[type-arg]


def register_all(top: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Create the shared groups and let every feature module add its commands."""
    groups = CommandGroups(
        top=top,
        imports=top.add_parser("import", help="import HR files (roster, hours, classes, attendance)")
        .add_subparsers(dest="import_command", required=True),
        admin=top.add_parser("admin", help="administration (roles, binding codes, substitutes)")
        .add_subparsers(dest="admin_command", required=True),
        report=top.add_parser("report", help="reports for HR").add_subparsers(dest="report_command", required=True),
        line=top.add_parser("line", help="LINE channel set-up").add_subparsers(dest="line_command", required=True),
    )
    for name in FEATURE_MODULES:
        importlib.import_module(name).register(groups)
