"""The rewards report (``abc-bot report rewards``): approved claims as CSV or xlsx, the 敘獎 paperwork's list.

Columns (zh-TW titles, as HR's forms read): claim, agency, unit, employee number, name, test, level or
scores, the certificate's date, reward, approved on. Roster text is written as text (never a formula).
"""

from __future__ import annotations

import csv
from pathlib import Path

from bot.clock import TAIPEI
from bot.dates import format_roc
from bot.services.certificates.claims import RewardRow
from bot.services.certificates.settings import CertificateSettings
from bot.services.common import excel_safe

HEADER = ["申請編號", "機關", "單位", "員工編號", "姓名", "測驗", "等級或成績", "發證／寄發日期", "敘獎額度",
          "核准日期"]


def reward_table(rows: list[RewardRow], settings: CertificateSettings) -> list[list[str]]:
    """The report's rows as text cells."""
    titles = {t.id: t.title for t in settings.tests}
    return [[str(r.claim_id), r.agency, r.unit, r.employee_no, r.name, titles.get(r.test_id, r.test_id), r.level,
             format_roc(r.dated) if r.dated else "", r.reward,
             format_roc(r.decided_at.astimezone(TAIPEI).date()) if r.decided_at else ""] for r in rows]


def write_rewards(rows: list[RewardRow], settings: CertificateSettings, out: Path, fmt: str) -> None:
    """Write the report to ``out`` as ``csv`` (UTF-8 with BOM, for Excel) or ``xlsx``."""
    table = reward_table(rows, settings)
    if fmt == "csv":
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows([excel_safe(c) for c in row] for row in table)
        return
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("敘獎")
    ws.append(HEADER)
    for row in table:
        ws.append([excel_safe(c) for c in row])
    wb.save(out)
