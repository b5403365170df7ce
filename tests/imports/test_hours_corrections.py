"""HR corrects one hours record: a corrected file replaces the record it names, and a wrong record is deleted.

Both are audited and undoable; ``abc-bot hours EMPLOYEE_NO --json`` gives the record ids.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli
from tests.imports.conftest import dump, put, query


def test_one_wrong_record_is_deleted_audited_and_can_come_back(cli: Cli, db: Path) -> None:
    records = json.loads(cli(["hours", "T0001", "--json"]).stdout)["records"]
    portal = next(r for r in records if r["source"] == "portal")
    from_class = next(r for r in records if r["source"] == "class")
    assert all(isinstance(r["id"], int) for r in records)
    cli(["admin", "grant", "T0003", "--role", "agency_hr"])               # HR of 環境保護局, not T0001's agency
    outside = cli(["hours", "delete", str(portal["id"]), "--by", "T0003", "--reason", "重複登錄"])
    assert outside.returncode == 1 and "no learning record" in outside.stderr
    derived = cli(["hours", "delete", str(from_class["id"]), "--by", "T0005", "--reason", "x"])
    assert derived.returncode == 1 and "import attendance" in derived.stderr
    before = dump(db)
    done = cli(["hours", "delete", str(portal["id"]), "--by", "T0005", "--reason", "重複登錄"])
    assert done.returncode == 0 and f"learning record #{portal['id']} deleted" in done.stdout, done.stderr
    assert portal["id"] not in {r["id"] for r in json.loads(cli(["hours", "T0001", "--json"]).stdout)["records"]}
    audit = query(db, "SELECT actor, action, allowed, detail FROM admin_audit WHERE action = 'hours.delete' "
                      "ORDER BY id")
    assert audit == [("cli:T0003", "hours.delete", 0, "重複登錄"), ("cli:T0005", "hours.delete", 0, "x"),
                     ("cli:T0005", "hours.delete", 1, "重複登錄")]
    batch = json.loads(cli(["import", "history", "--json"]).stdout)[0]
    assert (batch["kind"], batch["note"]) == ("hours_delete", "重複登錄")
    assert cli(["import", "undo", str(batch["id"])]).returncode == 0
    assert dump(db) == before
    usage = cli(["hours", "delete", str(portal["id"]), "--by", "T0005"])
    assert usage.returncode == 2 and "--reason" in usage.stderr


def test_a_corrected_file_replaces_the_record_it_names(cli: Cli, tmp_path: Path, db: Path) -> None:
    put(tmp_path, "h.csv", "員工編號,課程名稱,上課日期,時數,類別\nT0002,公文寫作,113/2/5,3,其他\n", "utf-8")
    cli(["import", "hours", "h.csv"])
    [(wrong,)] = query(db, "SELECT id FROM learning_records WHERE title = '公文寫作'")
    put(tmp_path, "fixed.csv", "員工編號,課程名稱,上課日期,時數,類別,更正紀錄編號\n"
                               f"T0002,公文寫作,113/2/15,3,其他,{wrong}\n",
                                        encoding="utf-8")
    fixed = json.loads(cli(["import", "hours", "fixed.csv", "--json"]).stdout)
    assert (fixed["added"], fixed["replaced"]) == (1, 1)
    assert query(db, "SELECT occurred_on FROM learning_records WHERE title = '公文寫作'") == [("2024-02-15",)]
    [(new,)] = query(db, "SELECT id FROM learning_records WHERE title = '公文寫作'")
    put(tmp_path, "bad.csv", "員工編號,課程名稱,上課日期,時數,類別,更正紀錄編號\n"
                                      f"T0001,公文寫作,113/2/16,3,其他,{new}\nT0001,公文寫作,113/2/17,3,其他,99999\n",
                                      encoding="utf-8")
    bad = cli(["import", "hours", "bad.csv", "--lang", "en"])
    assert bad.returncode == 1 and f'row 2: column "更正紀錄編號" (F2): record #{new} is not T0001\'s' in bad.stderr
    assert 'row 3: column "更正紀錄編號" (F3): record #99999 does not exist' in bad.stderr
    assert "第 3 列：「更正紀錄編號」欄（F3）的紀錄 #99999 不存在" in cli(["import", "hours", "bad.csv"]).stderr
