"""Property-based tests (hypothesis) of every importer's reading and of the LINE webhook parser (issue 15, part 10).

Whatever bytes, encoding or shape a file has, an importer either refuses it with ``ImportFileError`` /
``DataFileError`` (one sentence) or returns rows and row errors: never another exception. Whatever a
correctly signed webhook body holds, the parser returns events or refuses the request, and every event it
returns can be checked (``event_problem``) and its texts made safe without an exception.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import DEFAULT_DATA_DIR
from bot.datafiles import DataFileError
from bot.services.accounts import load_roster_mapping
from bot.services.accounts.roster import parse_roster
from bot.services.catalog import load_rules
from bot.services.classes import read_attendance_rows, read_classes_file
from bot.services.common import ImportFileError
from bot.services.hours import load_hours_mapping
from bot.services.hours.imports import parse_hours_file

RULES = load_rules(DEFAULT_DATA_DIR, 113)
ROSTER = load_roster_mapping(DEFAULT_DATA_DIR)
HOURS = load_hours_mapping(DEFAULT_DATA_DIR)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADERS = ["員工編號", "姓名", "機關", "到職日", "課程名稱", "上課日期", "時數(小時)", "類別", "班期代碼", "出席情形",
           "請假時數", "課程代碼", "辦理方式", "名額", "報名開始", "報名截止", "上課時間", "合計", "身分證字號", ""]
CELLS = st.one_of(st.sampled_from(["T0001", "113/2/30", "3小時", "是", "出席", "合計", "=1+1", "\ufeff", "\x00", "",
                                   "2024-03-05", "45356", "三小時", "A123456789", "a" * 300, "\ud800"]),
                  st.text(max_size=12))


def _files(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp())
    path = folder / f"f{suffix}"
    path.write_bytes(data)
    return path


def _read_all(path: Path) -> None:
    """Every importer's reading of ``path``: only its own refusals may escape."""
    for read in (lambda: parse_roster(path, ROSTER), lambda: parse_hours_file(path, HOURS, RULES, today=RULES_TODAY)):
        try:
            rows, report = read()
        except ImportFileError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        assert report.rows >= len(rows) and all(e.line >= 1 for e in report.errors)
    with contextlib.suppress(DataFileError):
        read_attendance_rows(path)
    with contextlib.suppress(DataFileError):
        read_classes_file(path, plan_year=113)


RULES_TODAY = date(2024, 10, 1)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    _read_all(_files(data, ".csv"))


@FUZZ
@given(st.lists(st.lists(CELLS, min_size=1, max_size=8), min_size=1, max_size=8),
       st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp950"]), st.sampled_from([",", "\t", ";"]))
def test_csv_shapes_and_encodings(rows: list[list[str]], header: list[str], encoding: str, sep: str) -> None:
    text = "\n".join(sep.join(r) for r in [header, *rows]) + "\n"
    data = text.encode(encoding, errors="replace") if encoding != "utf-8" else text.encode("utf-8", "surrogatepass")
    _read_all(_files(data, ".csv"))


@FUZZ
@given(st.lists(st.lists(st.one_of(CELLS.filter(lambda c: "\x00" not in c and "\ud800" not in c),
                                   st.integers(-10**6, 10**6), st.floats(allow_nan=False), st.none(), st.dates()),
                         min_size=1, max_size=7), min_size=1, max_size=7),
       st.lists(st.sampled_from(HEADERS), min_size=1, max_size=7), st.integers(0, 3))
def test_workbooks(rows: list[list[object]], header: list[str], title_rows: int) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    try:
        for _ in range(title_rows):
            ws.append(["桃園市政府 113年度"])
        for row in [header, *rows]:
            ws.append(row)
    except (IllegalCharacterError, ValueError):  # openpyxl itself refuses to write such a cell
        return
    path = _files(b"", ".xlsx")
    wb.save(path)
    _read_all(path)


# --------------------------------------------------------------------------------------- the webhook


def _channel() -> object:
    from linebot.v3 import WebhookParser

    from bot.channels.line import LineChannel
    from bot.metrics import Metrics
    from tests.line import webhooks as wh

    channel = LineChannel.__new__(LineChannel)  # parsing needs only the secret, the SDK parser and metrics
    channel.secret, channel.metrics = wh.SECRET, Metrics()
    channel.parser = WebhookParser(wh.SECRET, skip_signature_verification=lambda: True)
    return channel


CHANNEL = _channel()
JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                 st.text(max_size=20), st.sampled_from(["\ud800", "\x00", "user", "message", "text"])),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                           st.sampled_from(["type", "source", "userId", "message", "id", "text", "webhookEventId",
                                            "replyToken", "postback", "data", "mode", "timestamp", "x"]),
                           inner, max_size=6), max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(st.lists(JSONISH, max_size=4), st.booleans())
def test_the_webhook_parser_never_raises(events: list[object], valid_base: bool) -> None:
    from bot.channels.line import WebhookRejected
    from bot.channels.line_checks import event_problem, reply_token, safe_text
    from tests.line import webhooks as wh

    if valid_base:
        events = [wh.text(wh.user_id(1), "說明"), *events]
    body = json.dumps({"destination": wh.DESTINATION, "events": events}).encode()
    try:
        parsed = CHANNEL.parse(body, wh.sign(body))  # type: ignore[attr-defined]
    except WebhookRejected as exc:
        assert exc.status == 400
        return
    for event in parsed:
        event_problem(event)
        reply_token(event)
        message = getattr(event, "message", None)
        safe_text(getattr(message, "text", None))
    if valid_base:
        assert any(event_problem(e) is None for e in parsed)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_safe_text_keeps_no_surrogate_or_control(text: str) -> None:
    from bot.channels.line_checks import safe_text

    out = safe_text(text)
    out.encode("utf-8")  # a lone surrogate would fail here
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in out) and len(out) <= 5000
