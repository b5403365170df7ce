"""What is wrong with a row of a classes CSV or workbook, in the reader's language (issue 15, part 4).

The classes file is validated by its schema (:class:`~bot.services.classes.classes_file.ClassesFile`); a
CSV or ``.xlsx`` row's problems are turned here into :class:`~bot.services.common.Problem` s that name the
file's own header and Excel cell (``「時數」欄（F3）的「三」不是數字``), never an internal field name or a
validator's text, as the roster, hours and attendance imports do. Problems only the database can see
(a course not in the catalog …) use the same cells through :class:`ClassCells`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.services.common import ColumnMap, Problem, Say

_PLACE = {"registration": "closes", "meetings": "meetings", "eligibility": "ranks"}
"""Schema names of a class whose CSV column has another name (or is the closest one)."""
_ROW_FIELDS = {"imports.cell.meetings_overlap": "meetings", "imports.cell.closes_after_start": "closes",
               "imports.cell.place_or_link": "place", "imports.cell.closes_before_opens": "closes",
               "imports.cell.meeting_backwards": "meetings"}
"""Problems of a whole class (its model checks) and the column they are about."""
_NUMBER = {"decimal_parsing", "float_parsing", "decimal_type", "float_type", "finite_number"}
_WHOLE = {"int_parsing", "int_type", "int_from_float"}


@dataclass
class ClassCells:
    """Where each class of a CSV file came from: its row and the cells of every column (for its problems)."""

    path: str
    cmap: ColumnMap
    say: Say
    line_of_code: dict[str, int] = field(default_factory=dict)

    def problem(self, line: int, name: str, key: str, english: str, **values: object) -> Problem:
        """A problem of column ``name`` in row ``line``."""
        return self.cmap.problem(name, line, key, english, **values)

    def text(self, code: str, name: str, key: str, english: str, **values: object) -> str | None:
        """The problem of class ``code``'s column ``name`` as a rejected row says it; None for a code not in it."""
        from bot.services.common import describe

        line = self.line_of_code.get(code)
        if line is None:
            return None
        return f"{self.path}: {describe(line, [self.problem(line, name, key, english, **values)], self.say)}"


def column_of(loc: Sequence[int | str]) -> str | None:
    """The CSV column a schema error of one class is about (``("classes", 3, "hours")`` → ``hours``)."""
    if len(loc) < 3:
        return None
    name = str(loc[2])
    if name == "registration" and len(loc) > 3 and loc[3] in ("opens", "closes"):
        return str(loc[3])
    if name == "eligibility" and len(loc) > 3:
        return str(loc[3])
    return _PLACE.get(name, name)


def problem_of_error(error: Mapping[str, Any], cells: Mapping[str, str], cc: ClassCells, line: int) -> Problem:
    """One pydantic error of a class (its row ``line``, the row's ``cells`` as read) as a :class:`Problem`."""
    from bot.services.common import CellError

    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, CellError):
        name = column_of(error["loc"]) or _ROW_FIELDS.get(cause.key, "code")
        if len(error["loc"]) <= 2:
            name = _ROW_FIELDS.get(cause.key, name)
        return cc.problem(line, name, cause.key, str(cause), **cause.values)
    name = column_of(error["loc"]) or "code"
    raw = cells.get(name, "")
    kind = str(error.get("type", ""))
    if not raw and kind not in {"literal_error"}:
        return cc.problem(line, name, "imports.cell.empty", f"{name} is empty")
    if kind in _NUMBER:
        return cc.problem(line, name, "imports.cell.not_number", f"{raw!r} is not a number", value=raw)
    if kind in _WHOLE:
        return cc.problem(line, name, "imports.cell.not_whole_number", f"{raw!r} is not a whole number", value=raw)
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        limit = next(iter(ctx.values()), "")
        key = {"greater_than": "must_exceed", "greater_than_equal": "at_least"}.get(kind, "at_most")
        return cc.problem(line, name, f"imports.cell.{key}", f"{raw!r} is out of range ({kind} {limit})",
                          value=raw, limit=limit)
    if kind == "decimal_max_places":
        return cc.problem(line, name, "imports.cell.decimals", f"{raw!r} has too many decimals", value=raw,
                          places=ctx.get("decimal_places", 2))
    if kind == "string_pattern_mismatch" and name == "code":
        return cc.problem(line, name, "imports.cell.not_class_code", f"{raw!r} is not a class code", value=raw)
    if kind == "string_too_long":
        return cc.problem(line, name, "imports.cell.too_long", f"longer than {ctx.get('max_length')} characters",
                          limit=ctx.get("max_length", ""))
    if kind == "literal_error":
        allowed = "/".join(re.findall(r"'([^']*)'", str(ctx.get("expected", "")))) or str(ctx.get("expected", ""))
        return cc.problem(line, name, "imports.cell.not_one_of", f"{raw!r} is not one of {allowed}", value=raw,
                          allowed=allowed)
    if kind == "model_type" and name == "meetings":
        shown = str(error.get("input", raw))
        return cc.problem(line, name, "imports.cell.not_meeting", f"{shown!r} is not a meeting", value=shown)
    return cc.problem(line, name, "imports.cell.not_accepted", f"{raw!r} cannot be used here", value=raw)
