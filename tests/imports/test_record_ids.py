"""A learning record's id is never given to another record, after an undo or a delete (issue 15).

Audit lines (``hours.delete #12``) and import batches name records by id. SQLite's plain integer key
hands out max(id) + 1, so the newest record deleted had its id reused by the next import; the table has
AUTOINCREMENT since migration 0013_record_ids. PostgreSQL's identity sequences never go back.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.bootstrap import Runtime
from bot.db import migrate
from bot.db.engine import create_engine
from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord
from tests.conftest import Cli
from tests.imports.conftest import put


def record(employee_id: int, key: str) -> LearningRecord:
    """A portal record of plan year 113."""
    return LearningRecord(employee_id=employee_id, plan_year=113, occurred_on=date(2024, 2, 5), title="公文寫作",
                          hours=Decimal(3), bucket="other", mode="digital", source="portal", natural_key=key,
                          credited=True, created_at=datetime(2024, 3, 1, tzinfo=UTC))


async def test_the_newest_record_deleted_keeps_its_id_on_both_databases(app: Runtime) -> None:
    async with app.sessions.begin() as s:
        employee_id = (await s.execute(select(Employee.id).where(Employee.employee_no == "T0001"))).scalar_one()
        newest = record(employee_id, "test:newest")
        s.add(newest)
        await s.flush()
        gone = newest.id
        await s.delete(newest)
    async with app.sessions.begin() as s:
        again = record(employee_id, "test:again")
        s.add(again)
        await s.flush()
        assert again.id > gone


def ids_of(cli: Cli, employee_no: str) -> set[int]:
    """The record ids ``abc-bot hours EMPLOYEE_NO --json`` shows."""
    return {r["id"] for r in json.loads(cli(["hours", employee_no, "--json"]).stdout)["records"]}


def test_undo_and_delete_never_hand_an_id_on(cli: Cli, tmp_path: Path) -> None:
    before, before_2 = ids_of(cli, "T0001"), ids_of(cli, "T0002")
    put(tmp_path, "h.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0001,公文寫作,113/2/5,3,其他\n")
    assert cli(["import", "hours", "h.csv"]).returncode == 0
    [imported] = ids_of(cli, "T0001") - before
    batch = json.loads(cli(["import", "history", "--json"]).stdout)[0]["id"]
    assert cli(["import", "undo", str(batch)]).returncode == 0              # the record added is removed
    put(tmp_path, "h2.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0002,簡報技巧,113/2/6,2,其他\n")
    assert cli(["import", "hours", "h2.csv"]).returncode == 0
    [next_one] = ids_of(cli, "T0002") - before_2
    assert next_one > imported                                              # not the undone record's id
    deleted = cli(["hours", "delete", str(next_one), "--by", "T0005", "--reason", "重複登錄"])
    assert deleted.returncode == 0, deleted.stderr
    assert cli(["import", "hours", "h.csv"]).returncode == 0
    [third] = ids_of(cli, "T0001") - before
    assert third > next_one


@pytest.mark.db
async def test_the_migration_keeps_rows_and_starts_above_every_id_used(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    try:
        await migrate.upgrade(engine, "0009_reminders")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO employees (id, employee_no, name, agency, unit, rank, is_supervisor, gender, active,"
                " is_demo, created_at, updated_at) VALUES (1, 'T0001', '甲', '人事處', '', '', 0, '', 1, 0,"
                " '2024-03-01', '2024-03-01')"))
            for n in (1, 2, 3):
                await conn.execute(text(
                    "INSERT INTO learning_records (id, employee_id, plan_year, occurred_on, title, hours, bucket, "
                    "mode, source, natural_key, credited, created_at) VALUES (:n, 1, 113, '2024-02-05', 't', 1, "
                    "'other', '', 'portal', :k, 1, '2024-03-01')"), {"n": n, "k": f"k{n}"})
            # record 7 was added by a batch and deleted since: its id is in the batch's change rows
            await conn.execute(text("INSERT INTO import_batches (id, kind, label, file, digest, actor, at, counts, "
                                    "changes, note, status) VALUES (1, 'hours', '', 'h.csv', '', 'cli', "
                                    "'2024-03-01', '{}', 1, '', 'applied')"))
            await conn.execute(text("INSERT INTO import_changes (batch_id, table_name, row_id, action) "
                                    "VALUES (1, 'learning_records', 7, 'insert')"))
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            kept = (await conn.execute(text("SELECT id, natural_key FROM learning_records ORDER BY id"))).all()
            assert [tuple(r) for r in kept] == [(1, "k1"), (2, "k2"), (3, "k3")]
            await conn.execute(text("DELETE FROM learning_records WHERE id = 3"))
            await conn.execute(text(
                "INSERT INTO learning_records (employee_id, plan_year, occurred_on, title, hours, bucket, mode, "
                "source, natural_key, credited, created_at) VALUES (1, 113, '2024-02-05', 't', 1, 'other', '', "
                "'portal', 'k9', 1, '2024-03-01')"))
            new = (await conn.execute(text("SELECT id FROM learning_records WHERE natural_key = 'k9'"))).scalar_one()
            assert new == 8                                                # above 3 (deleted) and 7 (a batch's)
    finally:
        await engine.dispose()
    with sqlite3.connect(path) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                              "AND tbl_name = 'learning_records' AND sql IS NOT NULL")}
        checks = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'learning_records'").fetchone()[0]
    assert indexes == {"ix_learning_records_employee_year", "ix_learning_records_enrollment_id",
                       "ix_learning_records_year_report"}
    assert "AUTOINCREMENT" in checks and "ck_learning_records_source" in checks and "REFERENCES employees" in checks
