"""The HR report on SQLite and PostgreSQL: order, completion rates, CSV and xlsx output; and the schema."""

from __future__ import annotations

import csv
from datetime import date
from fractions import Fraction
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from bot.bootstrap import Runtime
from bot.db.base import Base
from bot.services.hours import agencies_path, build_report, write_csv, write_xlsx

MY_TABLES = {"employee_roles", "binding_codes", "binding_attempts", "admin_audit", "learning_records", "employees"}


async def test_report_order_and_rates(app: Runtime, tmp_path: Path) -> None:
    async with app.sessions() as s:
        report = await build_report(s, app.rules, today=date(2024, 3, 1))
    order = [r.employee_no for r in report.rows]
    assert order[-1] == "T0006"                                   # exempt (臨時人員) last
    remaining = [r.remaining for r in report.rows if r.applies]
    assert remaining == sorted(remaining, reverse=True)          # furthest behind first
    t3 = next(r for r in report.rows if r.employee_no == "T0003")
    assert t3.remaining == 0 and t3.mandatory_remaining == 0
    env = next(a for a in report.agencies if a.agency == "桃園市政府環境保護局")
    assert (env.employees, env.exempt, env.complete, env.rate) == (2, 1, 1, Fraction(1))
    assert report.total.employees == 6 and report.total.subject == 5
    assert report.agencies[0].rate == 0                            # lowest completion first

    async with app.sessions() as s:
        only = await build_report(s, app.rules, today=date(2024, 3, 1), agency="桃園市政府人事處")
    assert {r.agency for r in only.rows} == {"桃園市政府人事處"} and len(only.rows) == 3

    def t(key: str) -> str:
        return app.texts.get(key, "zh-TW")

    out = tmp_path / "hours.csv"
    paths = write_csv(report, out, t, "zh-TW")
    assert paths == [out, agencies_path(out)]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")           # Excel opens UTF-8 with a BOM correctly
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["員工編號", "姓名"] and "環境教育尚差" in rows[0]
    assert [r[0] for r in rows[1:]] == order
    with agencies_path(out).open(encoding="utf-8-sig") as fh:
        agencies = list(csv.reader(fh))
    assert agencies[-1][0] == "全部" and agencies[-1][1] == "6"

    from openpyxl import load_workbook

    xlsx = tmp_path / "hours.xlsx"
    write_xlsx(report, xlsx, t, "zh-TW")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["同仁時數", "機關完成率"]
    sheet = wb["同仁時數"]
    sheet_rows = list(sheet.iter_rows(values_only=True))
    assert sheet_rows[0][0] == f"{app.rules.year}年度 學習時數報表（全部）"
    assert sheet_rows[1][0] == "資料日期：113年3月1日"
    assert sheet_rows[2][0] == "員工編號" and sheet.freeze_panes == "A4"       # the header stays in view
    assert sheet.auto_filter.ref == f"A3:{sheet.cell(3, sheet.max_column).column_letter}{3 + len(order)}"
    assert sheet.column_dimensions["B"].width >= 8 and "採計時數" in str(sheet_rows[2][-1])  # per bucket: counted
    assert [r[0] for r in sheet_rows[3:]] == order
    assert isinstance(sheet_rows[3][-2], int | float)              # numbers are numbers in Excel


def _diff(connection: Connection) -> list[object]:
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, Base.metadata) if _table_of(d) in MY_TABLES]


def _table_of(diff: object) -> str:
    """The table a compare_metadata difference is about (modify_* differences come wrapped in a list)."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        if isinstance(part, str):
            return part
        table = getattr(part, "table", None)          # a column, index or constraint
        if table is not None:
            return str(table.name)
        if getattr(part, "name", None):                # a table
            return str(part.name)
    return ""


async def test_migration_0003_matches_the_models(app: Runtime) -> None:
    async with app.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
