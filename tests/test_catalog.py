"""The plan catalog and rules as data: completeness against the plan text, and loud failures."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_DATA_DIR
from bot.datafiles import DataFileError
from bot.services.catalog import load_catalog, load_rules


def test_catalog_loads_with_three_tracks() -> None:
    catalog = load_catalog(DEFAULT_DATA_DIR, 113)
    assert list(catalog.tracks) == ["A", "B", "C"]
    assert all(item.title and item.title_en for item in catalog)
    # Every category fits one LINE carousel (12 bubbles).
    assert all(len(c.items) <= 12 for c in catalog.categories.values())


def test_catalog_json_rows_have_the_documented_keys() -> None:
    rows = load_catalog(DEFAULT_DATA_DIR, 113).to_json_rows()
    keys = {"id", "title", "title_en", "track", "category", "series", "audience", "topics", "description"}
    assert all(keys <= set(r) for r in rows)
    python = next(r for r in rows if "Python" in r["title"])
    assert python["track"] == "B" and python["series"] == "區塊鏈系列"


def test_rules_buckets_add_up() -> None:
    rules = load_rules(DEFAULT_DATA_DIR, 113)
    assert {b.id: b.required for b in rules.hours.buckets} == {
        "policy": 1, "environment": 4, "democracy": 5, "other": 10}
    assert rules.hours.total_required == 20
    assert rules.hours.mandatory_package.deadline.isoformat() == "2024-09-30"


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside full-width parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "（"
        depth -= ch == "）"
        if ch == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def _plan_entries(text: str) -> list[str]:
    """Names of classes, courses and topics as the plan lists them, read from its own sentences."""
    body = re.sub(r"\s*\n\s*", "", text)  # join wrapped lines
    entries: list[str] = []
    numbered = r"\d\.([^\d。，]{2,20}?(?:班|營|系列))(?=培育|使初任|增進|強化|為讓|提升|加強|培養|因應)"
    for m in re.finditer(numbered, body):
        entries.append(m.group(1))
    for m in re.finditer(r"開辦(.+?)(?:等(?:相關)?課程|課程。)", body):
        entries.extend(_split_top(m.group(1), "、"))
    return [e.strip("「」 ").removeprefix("及").strip() for e in entries if e.strip()]


def _norm(s: str) -> str:
    return re.sub(r"[\s「」]", "", s)


def _found(entry: str, known: set[str]) -> bool:
    """An entry is in the catalog as a title, or as a head with its parenthesised topics, or as "X及Y"."""
    if _norm(entry) in known:
        return True
    parts = _split_top(entry, "及")
    if len(parts) > 1:
        return all(_found(p, known) for p in parts)
    if "（" in entry and entry.endswith("）"):
        head, inner = entry[:-1].split("（", 1)
        return _found(head, known) and all(_found(p, known) for p in inner.split("、"))
    return False


def _known_titles() -> set[str]:
    known: set[str] = set()
    for item in load_catalog(DEFAULT_DATA_DIR, 113):
        known.add(_norm(item.title))
        known.update(_norm(t.title) for t in item.topics)
    return known


def _missing(entries: list[str], known: set[str]) -> list[str]:
    missing = []
    for i, entry in enumerate(entries):
        # "社群神文案：FB、IG有效發文術" is one title with the list separator inside it.
        joined = [f"{entries[i - 1]}、{entry}"] if i else []
        joined += [f"{entry}、{entries[i + 1]}"] if i + 1 < len(entries) else []
        if not _found(entry, known) and not any(_found(j, known) for j in joined):
            missing.append(entry)
    return missing


def test_every_name_in_the_plan_is_in_the_catalog(shared_dir: Path) -> None:
    plan = (shared_dir / "seed" / "taoyuan-113-training-plan.txt").read_text(encoding="utf-8")
    entries = _plan_entries(plan)
    assert len(entries) > 50, entries  # the parser really read the plan
    missing = _missing(entries, _known_titles())
    assert not missing, f"named in the plan but not in the catalog: {missing}"


def test_the_plan_check_notices_a_missing_course_or_topic(shared_dir: Path) -> None:
    entries = _plan_entries((shared_dir / "seed" / "taoyuan-113-training-plan.txt").read_text(encoding="utf-8"))
    for title in ("勞基法實務案例探討", "多元性別", "社群神文案：FB、IG有效發文術"):
        assert _missing(entries, _known_titles() - {_norm(title)}), title


def _broken_copy(tmp_path: Path, mutate: object) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "plans" / "113" / "catalog.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(doc)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return data


def test_bad_catalog_names_file_and_key(tmp_path: Path) -> None:
    def drop_title(doc: dict) -> None:
        del doc["tracks"][1]["categories"][0]["items"][2]["title_en"]

    data = _broken_copy(tmp_path, drop_title)
    with pytest.raises(DataFileError) as err:
        load_catalog(data, 113)
    message = str(err.value)
    assert "catalog.yaml" in message and "title_en" in message and "[id=B1" in message


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    def dup(doc: dict) -> None:
        doc["tracks"][0]["categories"][0]["items"][1]["id"] = doc["tracks"][0]["categories"][0]["items"][0]["id"]

    with pytest.raises(DataFileError, match="used twice"):
        load_catalog(_broken_copy(tmp_path, dup), 113)


def test_unparseable_yaml_and_missing_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    (data / "plans" / "113" / "rules.yaml").write_text("hours: [unclosed", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"rules\.yaml: not valid YAML"):
        load_rules(data, 113)
    with pytest.raises(DataFileError, match="file not found"):
        load_catalog(data, 114)


def test_rules_with_inconsistent_total_fail(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "plans" / "113" / "rules.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["hours"]["total_required"] = 21
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"hours: .*add up to 20"):
        load_rules(data, 113)


def test_which_hours_a_deadline_covers_is_data_and_checked_against_the_package(tmp_path: Path) -> None:
    """Two deadlines on one date must not be confused: the rules file says which one is the package's."""
    rules = load_rules(DEFAULT_DATA_DIR, 113)
    assert {d.id: d.covers for d in rules.deadlines} == {"mandatory_hours": "mandatory", "all_hours": "all"}
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "plans" / "113" / "rules.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["deadlines"][0]["date"] = "2024-10-31"  # moved, but the package's deadline was not
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"deadline mandatory_hours covers the mandatory hours"):
        load_rules(data, 113)


def test_a_data_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "plans" / "113" / "rules.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Windows Notepad saves it
    assert load_rules(data, 113).hours.total_required == 20
