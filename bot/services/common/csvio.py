"""Reading the CSV files HR really has: BOMs, Excel, Big5, full-width digits, ROC dates, blank lines.

* :func:`read_table` decodes (UTF-8 with or without BOM, UTF-16 from Excel's "Unicode text", or
  Big5/CP950 from a zh-TW Excel "CSV"), guesses the delimiter (comma, tab, semicolon), drops blank
  lines and remembers each row's line number in the file;
* :class:`ColumnMap` finds our fields among the file's headers through a mapping file
  (``data/imports/*.yaml``) that HR can copy and adapt;
* :func:`read_table` reads an ``.xlsx`` workbook too (:mod:`bot.services.common.xlsxio`); a title above
  the header and a 合計 row below the data are left out by :func:`map_columns`;
* the cells themselves are parsed in :mod:`bot.services.common.cells`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.datafiles import read_yaml, validate_file
from bot.services.common.cells import clean, fold, narrow
from bot.services.common.problems import ImportFileError as ImportFileError
from bot.services.common.problems import Problem, column_letter, problem_of

NATIONAL_ID_HEADERS = ("身分證", "身份證", "統一證號", "nationalid", "idno")


@dataclass(frozen=True)
class RowError:
    """A row an import refuses, and why."""

    line: int
    message: str
    problems: tuple[Problem, ...] = ()
    """The same, cell by cell, for :func:`~bot.services.common.problems.describe` (empty: ``message`` only)."""


def row_error(line: int, problems: Sequence[Problem]) -> RowError:
    """A rejected row from its cells' problems (the English ``message`` names the file's headers and cells)."""
    text = "; ".join(f"{p.header} ({p.cell}): {p.english}" if p.cell else p.english for p in problems)
    return RowError(line, text, tuple(problems))


@dataclass
class ImportReport:
    """What a file import did (or, when rejected or a dry run, would do): the part every importer shares."""

    path: str
    encoding: str = ""
    digest: str = ""
    """SHA-256 of the file's bytes."""
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False
    refused: str = ""
    """Why a valid file was not imported (it would do more than HR plainly asked for); "" when it was not refused."""
    batch_id: int | None = None
    """The import batch that records what was written (None: a dry run, a rejected file, or nothing changed)."""
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """Rows left out on purpose (``--skip-unknown``): (row, employee number not on the roster)."""
    columns: ColumnMap | None = field(default=None, repr=False, compare=False)
    """Where the file's columns are, to name a cell in problems found after parsing (None: not parsed)."""

    @property
    def ok(self) -> bool:
        """True when the file was accepted."""
        return not self.errors and not self.refused


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class Table:
    """A decoded CSV file or sheet: headers and the non-blank rows with their line (Excel row) numbers."""

    path: Path
    encoding: str
    headers: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]
    digest: str = ""
    totals: list[int] = field(default_factory=list)
    """Rows left out as a total (合計) row below the data."""
    title_lines: list[int] = field(default_factory=list)
    """Rows above the header row (a title), left out."""


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16"), "utf-16"
        if raw.startswith(b"\xef\xbb\xbf"):
            return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        at = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        raise ImportFileError(f"{path}: starts as {exc.encoding.upper()} text but is damaged at byte "
                              f"{at}; save it again from Excel as \"CSV UTF-8\"") from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp950"), "cp950"
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 or Big5 text; save it as \"CSV UTF-8\" in Excel") from None


def read_table(path: Path, sheet: str | None = None) -> Table:
    """Read a CSV file, or one sheet of an ``.xlsx`` workbook (the first, or ``sheet``), as HR saves it.

    Raises:
        ImportFileError: missing file, not text nor a workbook, or no header line.
    """
    from bot.services.common.xlsxio import is_xlsx, read_xlsx

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if is_xlsx(path, raw[:4]):
        return Table(path, "xlsx", *read_xlsx(path, raw, sheet), digest=hashlib.sha256(raw).hexdigest())
    if sheet is not None:
        raise ImportFileError(f"{path}: --sheet is for an Excel workbook (.xlsx); this is a CSV file")
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"{path}: neither a CSV text file nor an .xlsx workbook (an old .xls? "
                              "save it as .xlsx or CSV UTF-8)")
    text, encoding = _decode(raw, path)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
    header_line = 1
    rows: list[tuple[int, list[str]]] = []
    next_line = 1
    while True:
        line = next_line
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell over the csv module's limit (128 KiB), say
            raise ImportFileError(f"{path}: line {line}: cannot be read as CSV ({exc})") from None
        next_line = reader.line_num + 1
        if not any(clean(c) for c in cells):
            continue
        if headers is None:
            headers = [clean(c) for c in cells]
            header_line = line
            continue
        rows.append((line, cells))
    if headers is None:
        raise ImportFileError(f"{path}: the file is empty (no header line)")
    return Table(path=path, encoding=encoding, headers=headers, header_line=header_line, rows=rows,
                 digest=hashlib.sha256(raw).hexdigest())


# ---------------------------------------------------------------------------------------------- mapping


class MappingFile(BaseModel):
    """A column mapping file (``data/imports/roster.yaml``, ``hours.yaml`` or HR's own copy).

    ``columns``: our field → the header name(s) it may have in the file (any one matches; compared
    without width, case or spaces). ``values``: for fields with a fixed set of values, our value → the
    words that mean it. ``defaults``: a value for a field whose column is absent.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, str | tuple[str, ...]] = {}
    values: dict[str, dict[str, tuple[str, ...]]] = {}
    defaults: dict[str, str] = {}

    def aliases(self, name: str) -> tuple[str, ...]:
        """The header names of a field (the field name itself always matches)."""
        raw = self.columns.get(name, ())
        names = (raw,) if isinstance(raw, str) else raw
        return (name, *names)

    def merged(self, override: MappingFile) -> MappingFile:
        """Lay HR's override over this mapping: its columns replace ours field by field; value words add up."""
        values = {k: dict(v) for k, v in self.values.items()}
        for fld, table in override.values.items():
            for value, words in table.items():
                values.setdefault(fld, {})[value] = (*values.get(fld, {}).get(value, ()), *words)
        return MappingFile(columns={**self.columns, **override.columns}, values=values,
                           defaults={**self.defaults, **override.defaults})


def load_mapping(path: Path) -> MappingFile:
    """Load and validate a mapping file.

    Raises:
        DataFileError: the file is missing, not YAML, or has unknown keys (file and key named).
    """
    return validate_file(MappingFile, read_yaml(path), path)


def load_import_mapping(data_dir: Path, default: Path, override: Path | None = None) -> MappingFile:
    """The project's mapping ``data_dir/default`` with HR's mapping file (``--mapping``) laid over it.

    Every importer reads its columns this way, so an HR file that renames one column keeps the default
    names of the others.
    """
    mapping = load_mapping(data_dir / default)
    return mapping.merged(load_mapping(override)) if override else mapping


@dataclass
class ColumnMap:
    """Where each of our fields is in a table, plus headers ignored on purpose."""

    index: dict[str, int]
    ignored_national_id: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        """True when the file has a column for ``name``."""
        return name in self.index

    def get(self, cells: Sequence[str], name: str) -> str:
        """The cleaned cell of ``name`` in a row ("" when the column is absent or the row is short)."""
        i = self.index.get(name)
        if i is None or i >= len(cells):
            return ""
        return clean(cells[i])

    def header(self, name: str) -> str:
        """The file's own header of field ``name`` (the field name when the file has no such column)."""
        i = self.index.get(name)
        return self.headers[i] if i is not None and i < len(self.headers) else name

    def cell(self, name: str, line: int) -> str:
        """The Excel cell of ``name`` in row ``line`` (``H5``), "" when the file has no such column."""
        i = self.index.get(name)
        return f"{column_letter(i)}{line}" if i is not None else ""

    def problem(self, name: str, line: int, error: ValueError | str, english: str = "", **values: object) -> Problem:
        """A problem of field ``name``'s cell in row ``line``: a parser's error, or a message key and values."""
        if isinstance(error, ValueError):
            return problem_of(error, self.header(name), self.cell(name, line))
        return Problem(self.header(name), self.cell(name, line), error, values, english or error)


HEADER_SEARCH = 10
"""How many rows below the first a header may be (a title, a date of printing, a blank-ish line above it)."""
_UNIT = re.compile(r"\s*[(（\[【][^()（）\[\]【】]{1,12}[)）\]】]\s*$")
_TOTAL_COUNT = re.compile(r"共\s*[:：]?\s*\d+\s*(筆|人|列)")
_TOTAL_STARTS = ("合計", "總計", "小計", "共計")
_TOTAL_WORDS = {"合計", "總計", "小計", "總和", "共計", "total", "totals", "grandtotal", "subtotal", "sum"}


def _header_keys(header: str) -> set[str]:
    """A header folded, with and without a trailing unit: ``時數(小時)`` also matches ``時數``."""
    return {fold(header), fold(_UNIT.sub("", header))} - {""}


def is_total_row(cells: Sequence[str]) -> bool:
    """True for a total row under the data: its first filled cell says 合計, 總計, Total … (colon or not)."""
    first = next((clean(c) for c in cells if clean(c)), "")
    word = fold(first).rstrip("：:")
    return word in _TOTAL_WORDS or word.startswith(_TOTAL_STARTS) or bool(_TOTAL_COUNT.fullmatch(narrow(first)))


def _locate(headers: Sequence[str], mapping: MappingFile, fields: Sequence[str]) -> dict[str, list[int]]:
    keys = [_header_keys(h) for h in headers]
    found: dict[str, list[int]] = {}
    for name in fields:
        wanted = {fold(a) for a in mapping.aliases(name)}
        hits = [i for i, k in enumerate(keys) if k & wanted]
        if hits:
            found[name] = hits
    return found


def map_columns(table: Table, mapping: MappingFile, fields: Sequence[str], required: Sequence[str]) -> ColumnMap:
    """Find ``fields`` among the table's headers.

    When the first line lacks a required column, the next rows are tried as the header (a title such as
    ``桃園市政府 113年度 學習時數`` above it): the table then starts below the row that has them all. Total
    rows (``合計``) are left out of ``table.rows`` and listed in ``table.totals``.

    Raises:
        ImportFileError: a required column is missing, or two headers claim the same field.
    """
    found = _locate(table.headers, mapping, fields)
    if any(n not in found for n in required):
        for at, (line, cells) in enumerate(table.rows[:HEADER_SEARCH]):
            heads = [clean(c) for c in cells]
            candidate = _locate(heads, mapping, fields)
            if all(n in candidate for n in required):
                table.title_lines = [table.header_line] + [n for n, _ in table.rows[:at]]
                table.headers, table.header_line, table.rows = heads, line, table.rows[at + 1:]
                found = candidate
                break
    index: dict[str, int] = {}
    for name in fields:
        hits = found.get(name, [])
        if len(hits) > 1:
            names = "、".join(table.headers[i] for i in hits)
            raise ImportFileError(f"{table.path}: columns {names} all mean {name}; keep one")
        if hits:
            index[name] = hits[0]
    missing = [n for n in required if n not in index]
    if missing:
        wanted_names = "; ".join(f"{n} ({' / '.join(mapping.aliases(n)[1:4]) or n})" for n in missing)
        raise ImportFileError(f"{table.path}: missing column(s): {wanted_names}. Found: {', '.join(table.headers)}. "
                              "A mapping file (--mapping) can name your headers.")
    kept = [(line, cells) for line, cells in table.rows if not is_total_row(cells)]
    table.totals = [line for line, cells in table.rows if is_total_row(cells)]
    table.rows = kept
    folded = [fold(h) for h in table.headers]
    ignored = [table.headers[i] for i, h in enumerate(folded)
               if i not in index.values() and any(fold(w) in h for w in NATIONAL_ID_HEADERS)]
    return ColumnMap(index=index, ignored_national_id=ignored, headers=list(table.headers))


def value_lookup(mapping: MappingFile, name: str) -> dict[str, str]:
    """Folded word → our value, for a field with a fixed set of values."""
    out: dict[str, str] = {}
    for value, words in mapping.values.get(name, {}).items():
        out[fold(value)] = value
        for w in words:
            out[fold(w)] = value
    return out


def unknown_employee(report: ImportReport, line: int, employee_no: str) -> RowError:
    """The row of an employee number the roster does not have, naming the file's employee number cell."""
    english = f"employee {employee_no} is not on the roster"
    if report.columns is None:
        return RowError(line, english)
    return row_error(line, [report.columns.problem("employee_no", line, "imports.cell.unknown_employee", english,
                                                   value=employee_no)])


def note_layout(table: Table, report: ImportReport) -> None:
    """Warn about what was left out of the table: rows above the header (a title) and total (合計) rows."""
    if table.title_lines:
        report.warnings.append(f"the header is row {table.header_line}: row(s) "
                               f"{', '.join(map(str, table.title_lines))} above it (a title) are not data")
    if table.totals:
        report.warnings.append("total row(s) left out: " + ", ".join(f"row {n}" for n in table.totals))


def rows_with(table: Table, cmap: ColumnMap) -> Iterator[tuple[int, Mapping[str, str]]]:
    """Each row as {field: cleaned cell} for the mapped fields, with its line number."""
    for line, cells in table.rows:
        yield line, {name: cmap.get(cells, name) for name in cmap.index}
