"""The CLI contracts of issue 12 through real processes: claims list/show/approve/reject, report rewards."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.bootstrap import Runtime
from bot.services.certificates import MediaStore
from tests.certificates.test_claims import _claim, _grant
from tests.test_cli import cli_env

pytestmark = pytest.mark.db


async def abc_bot(runtime: Runtime, media: MediaStore, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(tmp_path, DATABASE_URL=runtime.settings.database_url, MEDIA_DIR=str(media.root.parent))
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot", *args], capture_output=True,
                                   text=True, cwd=tmp_path, env=env, timeout=120, check=False)


async def test_claims_commands(cert_app: Runtime, media: MediaStore, tmp_path: Path) -> None:
    first = await _claim(cert_app)
    second = await _claim(cert_app, "T0002", level="初級")
    await _grant(cert_app, "T0003", "agency_hr", "桃園市政府環境保護局")

    listed = await abc_bot(cert_app, media, tmp_path, "claims", "list", "--status", "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["count"] == 2 and [c["id"] for c in data["claims"]] == [first, second]
    one = data["claims"][0]
    assert {k: one[k] for k in ("status", "employee_no", "agency", "test", "level", "grade", "reward", "dated")} == {
        "status": "pending", "employee_no": "T0001", "agency": "桃園市政府人事處", "test": "gept", "level": "中級",
        "grade": "B1", "reward": "嘉獎2次", "dated": "2024-01-01"}
    stored = media.read(one["photo"]["sha256"])
    assert one["photo"]["type"] == "image/jpeg" and str(media.path_of(one["photo"]["sha256"])) == one["photo"]["path"]
    assert stored is not None and one["photo"]["size"] == len(stored)

    shown = await abc_bot(cert_app, media, tmp_path, "claims", "show", str(first), "--json")
    assert json.loads(shown.stdout)["check"] == {"key": "eligible", "reward": "嘉獎2次"}
    assert (await abc_bot(cert_app, media, tmp_path, "claims", "show", "999")).returncode == 1

    other_agency = await abc_bot(cert_app, media, tmp_path, "claims", "approve", str(first), "--by", "T0003")
    assert other_agency.returncode == 1 and "not HR of its agency" in other_agency.stderr
    approved = await abc_bot(cert_app, media, tmp_path, "claims", "approve", str(first), "--by", "T0005")
    assert approved.returncode == 0, approved.stderr
    again = await abc_bot(cert_app, media, tmp_path, "claims", "reject", str(first), "--by", "T0005", "--reason", "x")
    assert again.returncode == 1 and "already decided (approved)" in again.stderr
    empty = await abc_bot(cert_app, media, tmp_path, "claims", "reject", str(second), "--by", "T0005", "--reason", " ")
    assert empty.returncode == 2
    rejected = await abc_bot(cert_app, media, tmp_path, "claims", "reject", str(second), "--by", "T0005",
                             "--reason", "照片看不清楚")
    assert rejected.returncode == 0, rejected.stderr
    statuses = json.loads((await abc_bot(cert_app, media, tmp_path, "claims", "list", "--json")).stdout)["claims"]
    assert [(c["status"], c["reject_reason"]) for c in statuses] == [("approved", None), ("rejected", "照片看不清楚")]

    out = tmp_path / "rewards.xlsx"
    report = await abc_bot(cert_app, media, tmp_path, "report", "rewards", "--agency", "桃園市政府人事處",
                           "--out", str(out))
    assert report.returncode == 0, report.stderr
    rows = list(load_workbook(out).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[1][3:9] == ("T0001", "示範員工甲（範例）", "全民英檢 GEPT", "中級", "113年1月1日", "嘉獎2次")
    assert len(rows) == 2
    bad = await abc_bot(cert_app, media, tmp_path, "report", "rewards", "--format", "csv", "--out", str(out))
    assert bad.returncode == 2
    unknown = await abc_bot(cert_app, media, tmp_path, "claims", "list", "--agency", "不存在的機關")
    assert unknown.returncode == 1
