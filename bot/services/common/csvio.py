"""Reading the CSV files HR really has: BOMs, Excel, Big5, full-width digits, ROC dates, blank lines.

* :func:`read_table` decodes (UTF-8 with or without BOM, UTF-16 from Excel's "Unicode text", or
  Big5/CP950 from a zh-TW Excel "CSV"), guesses the delimiter (comma, tab, semicolon), drops blank
  lines and remembers each row's line number in the file;
* :class:`ColumnMap` finds our fields among the file's headers through a mapping file
  (``data/imports/*.yaml``) that HR can copy and adapt;
* ``parse_*`` turn one cell into a value or raise ``ValueError`` with a reason a person can act on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bot.datafiles import read_yaml, validate_file
from bot.dates import ROC_OFFSET

EXCEL_EPOCH = date(1899, 12, 30)
NATIONAL_ID_HEADERS = ("身分證", "身份證", "統一證號", "nationalid", "idno")


class ImportFileError(ValueError):
    """The file cannot be read at all (not found, not text, no header, a required column missing)."""


@dataclass(frozen=True)
class RowError:
    """A row an import refuses, and why."""

    line: int
    message: str


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

    @property
    def ok(self) -> bool:
        """True when the file was accepted."""
        return not self.errors and not self.refused


def fold(text: str) -> str:
    """Fold for comparing labels: NFKC (full-width → half-width), casefold, no spaces or separators."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-・·．.:：/()（）\[\]【】]+", "", text)


def clean(text: str) -> str:
    """A cell as typed, tidied: no BOM or invisible characters, Excel's ``="007"`` unwrapped, trimmed."""
    text = text.replace("\ufeff", "").replace("\u200b", "").replace("\u00a0", " ").strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return re.sub(r"\s+", " ", text).strip()


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel or LibreOffice read a CSV cell as a formula (CSV injection)."""


def excel_safe(value: str) -> str:
    """A text cell for a CSV that people open in Excel, never read as a formula.

    A cell that would start a formula gets a leading apostrophe, so ``=HYPERLINK(…)`` typed as a name
    in the roster stays text. Plain numbers (``-1.5``) and a lone ``-`` are kept as they are.
    """
    if len(value) > 1 and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def narrow(text: str) -> str:
    """A cleaned cell with full-width letters, digits and punctuation made ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", clean(text)).strip()


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class Table:
    """A decoded CSV file: headers and the non-blank rows with their line numbers."""

    path: Path
    encoding: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    digest: str = ""


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


def read_table(path: Path) -> Table:
    """Read a CSV file as HR saves it.

    Raises:
        ImportFileError: missing file, not text, or no header line.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"{path}: this is not a CSV text file (an .xlsx? save it as CSV UTF-8)")
    text, encoding = _decode(raw, path)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers: list[str] | None = None
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
            continue
        rows.append((line, cells))
    if headers is None:
        raise ImportFileError(f"{path}: the file is empty (no header line)")
    return Table(path=path, encoding=encoding, headers=headers, rows=rows, digest=hashlib.sha256(raw).hexdigest())


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

    def has(self, name: str) -> bool:
        """True when the file has a column for ``name``."""
        return name in self.index

    def get(self, cells: Sequence[str], name: str) -> str:
        """The cleaned cell of ``name`` in a row ("" when the column is absent or the row is short)."""
        i = self.index.get(name)
        if i is None or i >= len(cells):
            return ""
        return clean(cells[i])


def map_columns(table: Table, mapping: MappingFile, fields: Sequence[str], required: Sequence[str]) -> ColumnMap:
    """Find ``fields`` among the table's headers.

    Raises:
        ImportFileError: a required column is missing, or two headers claim the same field.
    """
    folded = [fold(h) for h in table.headers]
    index: dict[str, int] = {}
    for name in fields:
        wanted = {fold(a) for a in mapping.aliases(name)}
        hits = [i for i, h in enumerate(folded) if h in wanted]
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
    ignored = [table.headers[i] for i, h in enumerate(folded)
               if i not in index.values() and any(fold(w) in h for w in NATIONAL_ID_HEADERS)]
    return ColumnMap(index=index, ignored_national_id=ignored)


def value_lookup(mapping: MappingFile, name: str) -> dict[str, str]:
    """Folded word → our value, for a field with a fixed set of values."""
    out: dict[str, str] = {}
    for value, words in mapping.values.get(name, {}).items():
        out[fold(value)] = value
        for w in words:
            out[fold(w)] = value
    return out


# ---------------------------------------------------------------------------------------------- values

_DATE_SEP = re.compile(r"^(\d{2,4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TIME_TAIL = re.compile(r"\s+(上午|下午|am|pm)?\s*\d{1,2}:\d{2}(:\d{2})?\s*(am|pm)?$", re.IGNORECASE)


def parse_date(text: str) -> date:
    """A date as HR writes it.

    Accepts ISO ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``20240305``; ROC ``113/3/5``, ``113年3月5日``,
    ``民國113年3月5日``, ``1130305``; an Excel serial day number (``45356``); and any of these followed by
    a time of day (Excel's ``2024/3/5 00:00``).

    Raises:
        ValueError: not a date, or not a real day (113/2/30).
    """
    s = narrow(text).replace("民國", "").strip()
    s = _TIME_TAIL.sub("", s).strip()
    if not s:
        raise ValueError("date is empty")
    try:
        if re.fullmatch(r"\d{5}(\.\d+)?", s):
            serial = int(float(s))
            if 20000 <= serial <= 80000:
                return EXCEL_EPOCH + timedelta(days=serial)
        if re.fullmatch(r"\d{8}", s):
            return date(int(s[:4]), int(s[4:6]), int(s[6:]))
        if re.fullmatch(r"\d{6,7}", s):
            return date(int(s[:-4]) + ROC_OFFSET, int(s[-4:-2]), int(s[-2:]))
        m = _DATE_SEP.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            if y < 1000:
                y += ROC_OFFSET
            return date(y, mo, d)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a real date") from None
    raise ValueError(f"{text.strip()!r} is not a date (use 2024-03-05 or 113/3/5)")


_HOURS_TAIL = re.compile(r"\s*(小時|時|hours?|hrs?|h)$", re.IGNORECASE)


def parse_hours(text: str, *, maximum: Decimal = Decimal(1000)) -> Decimal:
    """Hours as a positive exact decimal with at most two decimals (``1.5``, ``２``, ``3小時``).

    Raises:
        ValueError: empty, not a number, zero or negative, over ``maximum``, or more than two decimals.
    """
    s = _HOURS_TAIL.sub("", narrow(text))
    if not s:
        raise ValueError("hours are empty")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a number of hours") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"hours must be more than 0, got {text.strip()!r}")
    if value > maximum:
        raise ValueError(f"{text.strip()!r} hours is more than {maximum}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{text.strip()!r}: at most two decimals")
    return value


_YES = {"1", "y", "yes", "true", "t", "是", "有", "v", "✓", "主管", "○"}
_NO = {"", "0", "n", "no", "false", "f", "否", "無", "非主管", "x", "-"}


def parse_bool(text: str) -> bool:
    """Yes/no as HR writes it (是/否, Y/N, 1/0, true/false, 主管/非主管); blank is no.

    Raises:
        ValueError: anything else.
    """
    s = narrow(text).casefold()
    if s in _YES:
        return True
    if s in _NO:
        return False
    raise ValueError(f"{text.strip()!r} is not yes or no (是/否)")


def rows_with(table: Table, cmap: ColumnMap) -> Iterator[tuple[int, Mapping[str, str]]]:
    """Each row as {field: cleaned cell} for the mapped fields, with its line number."""
    for line, cells in table.rows:
        yield line, {name: cmap.get(cells, name) for name in cmap.index}
