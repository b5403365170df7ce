"""The classes file HR imports with ``abc-bot import classes``: YAML, or CSV as Excel saves it.

The sample one is ``data/demo/classes.yaml``. Times are Asia/Taipei wall-clock times. The file is
validated as a whole (:class:`ClassesFile`); a problem stops everything with ``file: where: problem``
lines. What only the database can tell (is the course in the catalog?) is checked by the import
(:mod:`bot.services.classes.imports`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.clock import TAIPEI
from bot.datafiles import DataFileError, PlainLoader, read_yaml, validate_file
from bot.services.catalog import BucketId
from bot.services.classes.eligibility import EligibilityRule

if TYPE_CHECKING:
    from bot.services.classes.file_problems import ClassCells
    from bot.services.common import ColumnMap, MappingFile, Problem, Say


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


_RELATIVE = re.compile(r"^today(?:([+-])(\d{1,4}))?$", re.IGNORECASE)
_INSTANT = re.compile(r"^(?P<day>\S+?)(?:[ T]+(?P<clock>\d{1,2}:\d{2}))?$", re.IGNORECASE)
_OFFSET = re.compile(r"\d(?:Z|[+-]\d\d:\d\d)$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_URL = re.compile(r"^https?://\S+$")
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


def parse_day(text: str, today: date | None) -> date:
    """A date as HR writes it, or, for samples and tests, ``today``, ``today+14``, ``today-3``.

    Besides ISO (``2024-03-20``) the forms of the roster and hours imports are accepted
    (:func:`bot.services.common.parse_date`): ROC ``113/3/20``, ``113年3月20日``, ``1130320``,
    ``2024/3/20``, full-width digits.
    """
    from bot.services.common import parse_date

    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        if today is None:
            raise ValueError("relative dates (today+N) need a reference day")
        days = int(m.group(2) or 0) * (-1 if m.group(1) == "-" else 1)
        return today + timedelta(days=days)
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    return parse_date(text)  # its CellError says in any language what is wrong with the date


def parse_clock(text: str) -> time:
    """A wall-clock time ``HH:MM`` (``24:00`` is not allowed; use the next day's 00:00)."""
    from bot.services.common import CellError

    m = _TIME.match(text.strip())
    if not m:
        raise CellError("imports.cell.not_time", f"{text!r} is not a time like 09:30", value=text.strip())
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise CellError("imports.cell.not_time", f"{text!r} is not a time of day", value=text.strip())
    return time(hour, minute)


def parse_instant(text: str, today: date | None, *, end_of_day: bool) -> datetime:
    """A Taipei date and time (``2024-03-15 17:00``), an ISO instant with an offset, or a date alone.

    A date alone means the start of that day, or with ``end_of_day`` the end of it (the next day's
    00:00): ``closes: 2024-03-15`` keeps registration open through all of 3/15.
    """
    from bot.services.common import CellError

    text = text.strip()
    wrong = CellError("imports.cell.not_datetime", f"{text!r} is not a date and time like 2024-03-15 17:00",
                      value=text)
    if _OFFSET.search(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise wrong from None
    m = _INSTANT.match(text)
    if not m:
        raise wrong
    day = parse_day(m.group("day"), today)
    if m.group("clock") is None:
        local = datetime.combine(day + timedelta(days=1) if end_of_day else day, time(0), TAIPEI)
    else:
        local = datetime.combine(day, parse_clock(m.group("clock")), TAIPEI)
    return local.astimezone(UTC)


def _today(info: ValidationInfo) -> date | None:
    ctx = info.context or {}
    value = ctx.get("today")
    return value if isinstance(value, date) else None


class MeetingSpec(_Strict):
    """One meeting: a date and Taipei start and end times."""

    date: str
    start: str
    end: str
    _starts_at: datetime = PrivateAttr()
    _ends_at: datetime = PrivateAttr()

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> MeetingSpec:
        from bot.services.common import CellError

        day = parse_day(self.date, _today(info))
        start, end = parse_clock(self.start), parse_clock(self.end)
        if end <= start:
            raise CellError("imports.cell.meeting_backwards",
                            f"meeting on {day}: ends ({self.end}) before it starts ({self.start})",
                            day=self.date, start=self.start, end=self.end)
        self._starts_at = datetime.combine(day, start, TAIPEI).astimezone(UTC)
        self._ends_at = datetime.combine(day, end, TAIPEI).astimezone(UTC)
        return self

    @property
    def starts_at(self) -> datetime:
        """The start as an aware UTC instant."""
        return self._starts_at

    @property
    def ends_at(self) -> datetime:
        """The end as an aware UTC instant."""
        return self._ends_at


class WindowSpec(_Strict):
    """The registration window: ``opens`` (inclusive) to ``closes`` (exclusive)."""

    opens: str
    closes: str
    _opens_at: datetime = PrivateAttr()
    _closes_at: datetime = PrivateAttr()

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> WindowSpec:
        self._opens_at = parse_instant(self.opens, _today(info), end_of_day=False)
        self._closes_at = parse_instant(self.closes, _today(info), end_of_day=True)
        if self._closes_at <= self._opens_at:
            from bot.services.common import CellError

            raise CellError("imports.cell.closes_before_opens", "registration closes before it opens")
        return self

    @property
    def opens_at(self) -> datetime:
        """When registration opens (inclusive), aware UTC."""
        return self._opens_at

    @property
    def closes_at(self) -> datetime:
        """When registration closes (exclusive), aware UTC."""
        return self._closes_at


class ClassSpec(_Strict):
    """One class as HR writes it."""

    code: str = Field(pattern=CODE_PATTERN)
    course: str = Field(min_length=1, max_length=16)
    name: str = Field(default="", max_length=100)
    mode: str
    host_agency: str = Field(default="", max_length=100)
    place: str = Field(default="", max_length=200)
    online_url: str | None = Field(default=None, max_length=500)
    materials_url: str | None = Field(default=None, max_length=500)
    hours: Decimal = Field(gt=0, le=999, decimal_places=2)
    bucket: BucketId | None = None
    capacity: int = Field(ge=0, le=100000)
    registration: WindowSpec
    meetings: tuple[MeetingSpec, ...] = Field(min_length=1)
    eligibility: EligibilityRule = EligibilityRule()
    audience_note: str = Field(default="", max_length=200)
    status: Literal["open", "closed", "cancelled"] = "open"

    @field_validator("online_url", "materials_url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not _URL.match(value.strip()):
            from bot.services.common import CellError

            raise CellError("imports.cell.not_url", "must be a web address starting with http:// or https://",
                            value=str(value))
        return value.strip()

    @model_validator(mode="after")
    def _consistent(self) -> ClassSpec:
        from bot.services.common import CellError

        spans = sorted((m.starts_at, m.ends_at) for m in self.meetings)
        for (_s1, e1), (s2, _e2) in pairwise(spans):
            if s2 < e1:
                raise CellError("imports.cell.meetings_overlap", "two meetings overlap")
        if self.registration.closes_at > spans[0][0]:
            raise CellError("imports.cell.closes_after_start",
                            "registration must close no later than the first meeting starts")
        if not self.place and not self.online_url:
            raise CellError("imports.cell.place_or_link", "give a place or an online_url")
        return self

    @property
    def starts_at(self) -> datetime:
        """The first meeting's start."""
        return min(m.starts_at for m in self.meetings)

    @property
    def ends_at(self) -> datetime:
        """The last meeting's end."""
        return max(m.ends_at for m in self.meetings)


class SampleEnrollment(_Strict):
    """Sample data only: these employees enroll in the class, in this order (seats first, then the waitlist)."""

    code: str
    employees: tuple[str, ...] = Field(min_length=1)


class SampleAttendance(_Strict):
    """Sample data only: attendance recorded for an enrolled employee of a past class."""

    code: str
    employee: str
    attendance: Literal["attended", "absent"]
    leave_hours: Decimal = Field(default=Decimal(0), ge=0)
    unexcused: bool = False


class Samples(_Strict):
    """What a sample file sets up beyond its classes: console users, enrollments, attendance."""

    console_users: tuple[str, ...] = ()
    enrollments: tuple[SampleEnrollment, ...] = ()
    attendance: tuple[SampleAttendance, ...] = ()


class ClassesFile(_Strict):
    """A whole classes file: the plan year, whether it is sample data, and the classes."""

    plan_year: int = Field(ge=100, le=200)
    sample: bool = False
    note: str = ""
    classes: tuple[ClassSpec, ...] = Field(min_length=1)
    samples: Samples | None = None
    _cells: ClassCells | None = PrivateAttr(default=None)
    """Of a CSV read with a reader's language: where each class came from, for the import's own problems."""

    @property
    def cells(self) -> ClassCells | None:
        """Where each class of a CSV came from (None for YAML, or a CSV read without ``say``)."""
        return self._cells

    @model_validator(mode="after")
    def _unique_codes(self) -> ClassesFile:
        seen: set[str] = set()
        for spec in self.classes:
            if spec.code in seen:
                raise ValueError(f"class code {spec.code} is used twice")
            seen.add(spec.code)
        if self.samples is not None:
            if not self.sample:
                raise ValueError("samples: only a file marked `sample: true` may set up sample enrollments")
            for ref in [e.code for e in self.samples.enrollments] + [a.code for a in self.samples.attendance]:
                if ref not in seen:
                    raise ValueError(f"samples: class {ref} is not in this file")
        return self


CSV_FIELDS = ("code", "course", "name", "mode", "host_agency", "place", "online_url", "materials_url", "hours",
              "bucket", "capacity", "opens", "closes", "meetings", "ranks", "supervisors_only",
              "new_hire_months", "agencies", "audience_note", "status")
CSV_REQUIRED = ("code", "course", "mode", "hours", "capacity", "opens", "closes", "meetings")
CSV_MAPPING = Path("imports") / "classes.yaml"
_LIST_SPLIT = re.compile(r"\s*[;；、]\s*")
_NARROW_FIELDS = frozenset({"code", "course", "hours", "capacity", "opens", "closes", "meetings", "new_hire_months"})
_UNITS = {"hours": re.compile(r"\s*(小時|時|hours?|hrs?|h)$", re.IGNORECASE),
          "capacity": re.compile(r"\s*(人|名|位|席|people|seats?)$", re.IGNORECASE),
          "new_hire_months": re.compile(r"\s*(個月|月|months?)$", re.IGNORECASE)}
_MEETING = re.compile(r"^(\S+)\s+(\d{1,2}:\d{2})\s*[-–~～]\s*(\d{1,2}:\d{2})$")


def _csv_row(cells: Mapping[str, str], words: dict[str, dict[str, str]],
             bad: Callable[[str, ValueError], None] | None = None) -> dict[str, Any]:
    """One CSV row in the YAML shape; ``meetings`` is ``2024-03-20 09:00-12:00; 2024-03-27 09:00-12:00``.

    ``bad(column, error)`` hears of a cell read here that says nothing known (限主管 neither yes nor no),
    and the row goes on without it, so that its other cells are checked too; without it that raises.
    """
    from bot.services.common import fold, narrow, parse_bool

    def cell(name: str) -> str:
        value = (cells.get(name) or "").strip()
        if name in _NARROW_FIELDS:  # Excel's full-width digits and colons: ５０, ０９：００
            value = narrow(value)
        if name in _UNITS:  # 3小時, 30人: a number with its unit, as HR types it
            value = _UNITS[name].sub("", value).strip()
        return words.get(name, {}).get(fold(value), value) if value else ""

    meetings: list[dict[str, str] | str] = []
    for part in _LIST_SPLIT.split(cell("meetings")):
        if part:
            m = _MEETING.match(part)
            meetings.append({"date": m.group(1), "start": m.group(2), "end": m.group(3)} if m else part)
    eligibility: dict[str, Any] = {}
    for name in ("ranks", "agencies"):
        if cell(name):
            eligibility[name] = [r for r in _LIST_SPLIT.split(cell(name)) if r]
    if cell("supervisors_only"):
        try:
            eligibility["supervisors_only"] = parse_bool(cell("supervisors_only"))
        except ValueError as exc:
            if bad is None:
                raise
            bad("supervisors_only", exc)
    if cell("new_hire_months"):
        eligibility["new_hire_months"] = cell("new_hire_months")
    out: dict[str, Any] = {"code": cell("code"), "course": cell("course"), "mode": cell("mode"),
                           "hours": cell("hours"), "capacity": cell("capacity"),
                           "registration": {"opens": cell("opens"), "closes": cell("closes")},
                           "meetings": meetings, "eligibility": eligibility}
    for name in ("name", "host_agency", "place", "online_url", "materials_url", "bucket", "audience_note",
                 "status"):
        if cell(name):
            out[name] = cell(name)
    return out


@dataclass
class _CsvClasses:
    """A classes CSV read into the YAML shape, with where each class came from and the problems found so far."""

    raw: dict[str, Any]
    line_of: dict[int, int]
    cells: list[Mapping[str, str]]
    cmap: ColumnMap
    problems: dict[int, list[Problem]] = field(default_factory=dict)
    """Row → problems found while reading (a yes/no cell that says neither, a class code used twice)."""


def _read_classes_csv(path: Path, plan_year: int, spec: MappingFile, sheet: str | None = None) -> _CsvClasses:
    from bot.services.common import ImportFileError, map_columns, read_table, rows_with, value_lookup

    try:
        table = read_table(path, sheet)
        cmap = map_columns(table, spec, CSV_FIELDS, CSV_REQUIRED)
    except ImportFileError as exc:
        raise DataFileError(str(exc)) from None
    words = {name: value_lookup(spec, name) for name in ("status", "bucket")}
    read = _CsvClasses({"plan_year": plan_year, "classes": []}, {}, [], cmap)
    classes: list[dict[str, Any]] = read.raw["classes"]
    first_row: dict[str, int] = {}
    for line, cells in rows_with(table, cmap):
        def bad(column: str, exc: ValueError, line: int = line) -> None:
            read.problems.setdefault(line, []).append(cmap.problem(column, line, exc))

        row = _csv_row(cells, words, bad)
        code = str(row.get("code", ""))
        if code and code in first_row:
            read.problems.setdefault(line, []).append(cmap.problem(
                "code", line, "imports.row.same_class", f"class code {code} is used twice", other=first_row[code]))
            continue
        first_row.setdefault(code, line)
        classes.append(row)
        read.line_of[len(classes) - 1] = line
        read.cells.append(cells)
    return read


def read_classes_file(path: Path, *, plan_year: int, today: date | None = None,
                      mapping: Path | None = None, data_dir: Path | None = None,
                      sheet: str | None = None, say: Say | None = None) -> ClassesFile:
    """Read and validate a classes file (``.yaml``/``.yml``, or ``.csv``/``.xlsx`` as HR saves it from Excel).

    Args:
        path: the file.
        plan_year: the plan year for a CSV file (YAML files say their own ``plan_year``).
        today: the Taipei day that relative dates (``today+14``) count from; None forbids them.
        mapping: HR's CSV column mapping, laid over ``data_dir``'s ``imports/classes.yaml``.
        data_dir: the data folder (default: the project's ``data/``).
        sheet: of an ``.xlsx`` workbook, the sheet (name or number from 1; default the first).
        say: for a CSV or workbook, the problems in the reader's language (``abc-bot import classes
            --lang``), each naming the file's own header and Excel cell; without it, in the file's English
            terms (``line 3 [code=C-2]: …``).

    Raises:
        DataFileError: every problem found, each as ``file: where: problem`` (nothing is imported).
    """
    if path.suffix.lower() in {".yaml", ".yml"}:
        raw = read_yaml(path, loader=PlainLoader)
        return validate_file(ClassesFile, raw, path, key="code", context={"today": today}, limit=20)
    if path.suffix.lower() not in {".csv", ".xlsx", ".xlsm"}:
        raise DataFileError(f"{path}: a classes file must end in .yaml, .yml, .csv or .xlsx")
    from bot.config import DEFAULT_DATA_DIR
    from bot.services.common import load_import_mapping

    spec = load_import_mapping(data_dir or DEFAULT_DATA_DIR, CSV_MAPPING, mapping)
    read = _read_classes_csv(path, plan_year, spec, sheet)
    if say is None:
        if read.problems:
            raise DataFileError("\n".join(f"{path}: line {line}: {p.english}"
                                          for line, ps in sorted(read.problems.items()) for p in ps))
        return validate_file(ClassesFile, read.raw, path, key="code", line_of=read.line_of,
                             context={"today": today}, limit=20)
    return _validate_csv(path, read, today, say)


def _validate_csv(path: Path, read: _CsvClasses, today: date | None, say: Say) -> ClassesFile:
    """Validate a CSV's classes; every problem of the file at once, by row, in the reader's language."""
    from pydantic import ValidationError

    from bot.services.classes.file_problems import ClassCells, problem_of_error
    from bot.services.common import describe

    cells = ClassCells(str(path), read.cmap, say)
    problems = {line: list(ps) for line, ps in read.problems.items()}
    try:
        parsed = ClassesFile.model_validate(read.raw, context={"today": today})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            if len(loc) < 2 or loc[0] != "classes" or not isinstance(loc[1], int):
                continue  # a whole-file check (a code used twice) is already a row's problem
            line = read.line_of[loc[1]]
            problem = problem_of_error(error, read.cells[loc[1]], cells, line)
            if not any(p.cell == problem.cell and p.cell for p in problems.get(line, [])):  # one per cell
                problems.setdefault(line, []).append(problem)
    else:
        if not problems:
            parsed._cells = ClassCells(str(path), read.cmap, say,
                                       {c.code: read.line_of[i] for i, c in enumerate(parsed.classes)})
            return parsed
    raise DataFileError("\n".join(f"{path}: {describe(line, ps, say)}" for line, ps in sorted(problems.items())))
