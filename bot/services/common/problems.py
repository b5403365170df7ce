"""What is wrong with a cell of an HR file, said in the reader's language with the file's own header and cell.

A parser raises :class:`CellError` (a ``ValueError`` whose text is the English sentence) carrying a message
key of ``bot/texts/imports.yaml`` and its values; the importer turns it into a :class:`Problem` that knows
the column's header as the file spells it and the Excel cell (``H5``). :func:`describe` renders a row's
problems for ``--lang zh-TW|en``: never an internal field name, never a validator's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

Say = Callable[..., str]
"""``say(key, **values)``: a text of the message catalog in the reader's language."""


class ImportFileError(ValueError):
    """The file cannot be read at all (not found, not text, no header, a required column missing)."""


class CellError(ValueError):
    """A cell's value is not acceptable: ``key`` (``imports.cell.*``) and ``values`` say why in any language."""

    def __init__(self, key: str, english: str, **values: object) -> None:
        super().__init__(english)
        self.key = key
        self.values = values


def column_letter(index: int) -> str:
    """Excel's letter of a 0-based column index (0 → A, 26 → AA)."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass(frozen=True)
class Problem:
    """One cell's problem: the file's header, the cell (``H5``; "" for a row-wide problem), and why."""

    header: str
    cell: str
    key: str
    values: Mapping[str, object] = field(default_factory=dict)
    english: str = ""

    def text(self, say: Say) -> str:
        """The problem in the reader's language."""
        reason = say(self.key, **{k: _shown(v) for k, v in self.values.items()})
        if not self.cell:
            return reason
        return say("imports.where.cell", header=self.header, cell=self.cell, reason=reason)


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def problem_of(exc: ValueError, header: str, cell: str) -> Problem:
    """A parser's error at a cell; a plain ``ValueError`` (not keyed) keeps its English text."""
    if isinstance(exc, CellError):
        return Problem(header, cell, exc.key, exc.values, str(exc))
    return Problem(header, cell, "imports.cell.other", {"reason": str(exc)}, str(exc))


def describe(line: int, problems: Sequence[Problem], say: Say) -> str:
    """A rejected row for a person: ``第 5 列：到職日（H5）：…；…`` in the reader's language."""
    return say("imports.where.row", line=line, reasons=say("imports.join").join(p.text(say) for p in problems))
