"""Two HR imports at once: the second waits for the first, then runs on what the first wrote.

Without that, both read "not there yet" and both insert: the second died with a unique-key traceback
that printed the rows (names, employee numbers). On PostgreSQL this runs two real ``abc-bot import``
processes; the test holds the import tables in SHARE mode (reads pass, writes wait) so that the first
import is still running when the second one starts, whatever the machine's speed. On SQLite two
sessions of this process import the same file, the second starting while the first holds the lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import Runtime, build_app
from bot.clock import FrozenClock
from bot.db import sqlite_inloop
from tests.conftest import Cli, base_settings
from tests.test_cli import abc_bot, cli_env

ROSTER = "\ufeff員工編號,姓名,機關,單位\r\n" + "".join(
    f"C{n:04d},同仁{n}號（範例）,桃園市政府工務局,道路科\r\n" for n in range(1, 41))
HOURS = ("\ufeff員工編號,課程名稱,上課日期,時數,類別,學習方式\r\n"
         "T0001,當前政府重大政策,113/1/15,1,政策,數位\r\n"
         "T0002,環境教育,113/1/20,5,環境教育,數位\r\n"
         "T0003,公文寫作,113/2/5,3,其他,實體\r\n")
CLASSES = """
plan_year: 113
classes:
  - code: CONC-1
    course: A2-6-2
    name: 第1期
    mode: 專班
    place: 教室
    hours: 3
    capacity: 20
    registration: {opens: 2099-01-01, closes: "2099-01-10 17:00"}
    meetings: [{date: 2099-01-20, start: "09:00", end: "12:00"}]
"""
ATTENDANCE = "班期代碼,員工編號,出缺席,請假時數\nDEMO-AI-00,T0001,{0},0\nDEMO-AI-00,T0005,{0},0\n"


@dataclass(frozen=True)
class Case:
    """One import command, its file, and what the one that runs first and the one that waits print."""

    args: list[str]
    file: str
    content: str
    first: str
    second: str
    before: str = ""
    """A file imported before the race (attendance: everyone absent, so the race creates the records)."""


CASES = {
    "roster": Case(["import", "roster"], "roster.csv", ROSTER, "added 40, updated 0, unchanged 0",
                   "added 0, updated 0, unchanged 40"),
    "hours": Case(["import", "hours"], "hours.csv", HOURS, "added 3, updated 0, unchanged 0",
                  "added 0, updated 0, unchanged 3"),
    "classes": Case(["import", "classes"], "classes.yaml", CLASSES, "classes: 1 created, 0 updated, 0 unchanged",
                    "classes: 0 created, 0 updated, 1 unchanged"),
    "attendance": Case(["import", "attendance"], "attendance.csv", ATTENDANCE.format("出席"),
                       "learning records 2 created, 0 updated, 0 removed",
                       "learning records 0 created, 0 updated, 0 removed", before=ATTENDANCE.format("缺席")),
}
PERSONAL = ["C0001", "同仁1號", "T0001", "T0005", "示範員工"]
"""What must never show on the terminal: employee numbers and names of the files and the demo roster."""
WAITING = "another import is running; waiting for it to finish"


async def _lines(stream: asyncio.StreamReader, into: list[str], seen_waiting: asyncio.Event) -> None:
    while line := (await stream.readline()).decode():
        into.append(line)
        if WAITING in line:
            seen_waiting.set()


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(CASES))
async def test_two_import_processes_at_once_on_postgresql(tmp_path: Path, pg_url: str, kind: str) -> None:
    import asyncpg

    case = CASES[kind]
    env = {"DATABASE_URL": pg_url}
    assert abc_bot(["db", "seed", "--demo"], tmp_path, **env).returncode == 0
    if case.before:
        (tmp_path / "before").write_text(case.before, encoding="utf-8")
        assert abc_bot([*case.args, "before"], tmp_path, **env).returncode == 0
    (tmp_path / case.file).write_text(case.content, encoding="utf-8")
    blocker = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
    procs: list[asyncio.subprocess.Process] = []
    try:
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute("LOCK TABLE employees, learning_records, classes, enrollments IN SHARE MODE")
        seen_waiting = asyncio.Event()
        errs: list[list[str]] = [[], []]
        for _ in range(2):
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *case.args, case.file, cwd=tmp_path, env=cli_env(tmp_path, **env),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE))
        readers = [asyncio.create_task(_lines(p.stderr, e, seen_waiting))  # type: ignore[arg-type]
                   for p, e in zip(procs, errs, strict=True)]
        outs = [asyncio.create_task(p.stdout.read()) for p in procs]  # type: ignore[union-attr]
        # One import holds the lock and waits for the tables; the other says it waits for that import.
        try:
            await asyncio.wait_for(seen_waiting.wait(), 60)
        except TimeoutError:
            pytest.fail("neither import waited for the other: both ran at once")
        await hold.commit()
        codes = [await asyncio.wait_for(p.wait(), 60) for p in procs]
        await asyncio.gather(*readers)
        printed = [(await o).decode() for o in outs]
    finally:
        await blocker.close()
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
    assert codes == [0, 0], errs
    which = sorted("first" if case.first in out else "second" if case.second in out else out for out in printed)
    assert which == ["first", "second"], printed  # one ran on what the other wrote
    terminal = "".join(printed) + "".join(line for e in errs for line in e)
    assert "Traceback" not in terminal and "Error" not in terminal, terminal
    assert not [word for word in PERSONAL if word in terminal], terminal
    assert sum(WAITING in "".join(e) for e in errs) == 1


@dataclass
class _Importer:
    """Runs one import kind in a session of an app (SQLite, in this process)."""

    run: Callable[[Runtime, AsyncSession], Awaitable[tuple[int, int]]]
    expected: tuple[tuple[int, int], tuple[int, int]]
    """(created, unchanged) of the first import and of the one that waited."""


def _importers(tmp_path: Path) -> dict[str, _Importer]:
    from bot.clock import taipei_today
    from bot.services.accounts import import_roster, load_roster_mapping
    from bot.services.classes import (
        import_attendance,
        import_classes,
        load_enrollment_settings,
        read_attendance_csv,
        read_classes_file,
    )
    from bot.services.hours import import_hours, load_hours_mapping

    for case in CASES.values():
        (tmp_path / case.file).write_text(case.content, encoding="utf-8")

    async def roster(app: Runtime, s: AsyncSession) -> tuple[int, int]:
        r = await import_roster(s, tmp_path / "roster.csv", mapping=load_roster_mapping(app.settings.data_dir),
                                now=app.clock.now())
        return r.added, r.unchanged

    async def hours(app: Runtime, s: AsyncSession) -> tuple[int, int]:
        r = await import_hours(s, tmp_path / "hours.csv", mapping=load_hours_mapping(app.settings.data_dir),
                               rules=app.rules, today=taipei_today(app.clock), now=app.clock.now())
        return r.added, r.unchanged

    async def classes(app: Runtime, s: AsyncSession) -> tuple[int, int]:
        spec = read_classes_file(tmp_path / "classes.yaml", plan_year=113, today=taipei_today(app.clock),
                                 data_dir=app.settings.data_dir)
        r = await import_classes(s, spec, settings=load_enrollment_settings(app.settings.data_dir, 113),
                                 deps=app.app.deps, now=app.clock.now(), batch="b", source="classes.yaml")
        return len(r.created), len(r.unchanged)

    async def attendance(app: Runtime, s: AsyncSession) -> tuple[int, int]:
        lines = read_attendance_csv(tmp_path / "attendance.csv", None, data_dir=app.settings.data_dir)
        r = await import_attendance(s, lines, rules=app.rules, catalog=app.catalog,
                                    settings=app.app.enrollment, now=app.clock.now(), batch="b")
        return r.records_created, r.rows - r.records_created - r.records_updated

    return {"roster": _Importer(roster, ((40, 0), (0, 40))), "hours": _Importer(hours, ((3, 0), (0, 3))),
            "classes": _Importer(classes, ((1, 0), (0, 1))), "attendance": _Importer(attendance, ((2, 0), (0, 2)))}


@pytest.mark.parametrize("kind", list(CASES))
async def test_two_imports_at_once_on_sqlite(tmp_path: Path, sqlite_app: Runtime, sqlite_url: str, clock: FrozenClock,
                                             kind: str) -> None:
    importer = _importers(tmp_path)[kind]
    if CASES[kind].before:
        (tmp_path / "attendance.csv").write_text(CASES[kind].before, encoding="utf-8")
        async with sqlite_app.sessions.begin() as s:
            await importer.run(sqlite_app, s)
        (tmp_path / "attendance.csv").write_text(CASES[kind].content, encoding="utf-8")
    other = await build_app(base_settings(sqlite_url), clock=clock, prepare_db=False)
    waits = asyncio.Event()

    @event.listens_for(other.engine.sync_engine, "before_cursor_execute")
    def _first_write(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            waits.set()  # its first try finds the first import's write lock; it then waits, yielding the loop

    try:
        async with sqlite_app.sessions() as first:
            done_first = await importer.run(sqlite_app, first)  # written, not committed: it holds the lock
            async with other.sessions() as second:
                waiting = asyncio.create_task(importer.run(other, second))
                await asyncio.wait_for(waits.wait(), 10)
                await first.commit()
                done_second = await waiting
                await second.commit()
    finally:
        await other.close()
    assert (done_first, done_second) == importer.expected


def test_an_import_is_refused_in_one_sentence_when_sqlite_stays_busy(
        tmp_path: Path, cli_for: Callable[[str], Cli], monkeypatch: pytest.MonkeyPatch) -> None:
    cli = cli_for(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    assert cli(["db", "seed", "--demo"]).returncode == 0
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    monkeypatch.setattr(sqlite_inloop, "BUSY_WAIT_SECONDS", 0.0)  # how long a writer waits for the lock
    holder = sqlite3.connect(tmp_path / "cli.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program writing, for longer than a writer waits
    try:
        refused = cli(["import", "roster", "roster.csv"])
    finally:
        holder.rollback()
        holder.close()
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr == ("abc-bot: another import or program kept the database busy for 0 s; nothing was "
                              "written, run this import again when it has finished\n")
    again = cli(["import", "roster", "roster.csv"])
    assert again.returncode == 0 and "added 40, updated 0, unchanged 0" in again.stdout
