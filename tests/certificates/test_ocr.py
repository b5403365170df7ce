"""The OCR prefill: what OCR text says (pure), and the wizard offering it for confirmation (a fake reader)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.bootstrap import Runtime
from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import load_rules
from bot.services.certificates import MediaStore, Prefill, load_certificate_settings, parse_prefill
from tests.certificates import images
from tests.certificates.conftest import use_certificates
from tests.certificates.test_dialogs import _console, _file

SETTINGS = load_certificate_settings(DEFAULT_DATA_DIR, 113, load_rules(DEFAULT_DATA_DIR, 113))
GEPT = ("財團法人語言訓練測驗中心\n全民英語能力分級檢定測驗\n中級 合格證書\nGEPT Intermediate Level\n"
        "發證日期：中華民國113年1月5日")


@pytest.mark.parametrize(("text", "expected"), [
    (GEPT, Prefill("gept", 1, date(2024, 1, 5))),
    ("客家委員會\n客語能力認證\n中高級 合格證書\n發證日期：中華民國 112 年 12 月 30 日",
     Prefill("hakka", 3, date(2023, 12, 30))),
    ("TOEIC Listening and Reading\nTotal 785\n2024/01/10", Prefill("toeic_lr", None, None)),
    ("全民英檢 初級\n發證日期 113年2月30日", Prefill("gept", 0, None)),  # no such day: not offered
    ("GEPT and TOEIC", None),  # two tests: unsure, asked as usual
    ("a photo of a cat", None),
])
def test_parse_prefill(text: str, expected: Prefill | None) -> None:
    assert parse_prefill(text, SETTINGS) == expected


@pytest.fixture
def ocr_app(sqlite_app: Runtime, tmp_path: Path) -> Runtime:
    return use_certificates(sqlite_app, store=MediaStore(tmp_path / "media"), signer=None, ocr=lambda data: GEPT)


async def test_the_wizard_offers_what_was_read_and_still_checks_and_confirms(ocr_app: Runtime, tmp_path: Path) -> None:
    me = await _console(ocr_app, "T0001")
    offered = await me.photo(_file(tmp_path, "c.jpg", images.jpeg_with_gps()))
    assert "我從照片讀到：全民英檢 GEPT，中級，113年1月5日" in offered
    checked = await me.press("正確，繼續")
    assert "符合「中級」嘉獎2次" in checked and "送出申請" in me.buttons  # not submitted by itself
    assert "待審核" in await me.press("送出申請")


async def test_no_thanks_asks_as_usual_and_a_failing_reader_changes_nothing(ocr_app: Runtime, tmp_path: Path) -> None:
    me = await _console(ocr_app, "T0001")
    await me.photo(_file(tmp_path, "c.jpg", images.jpeg_with_gps()))
    assert "哪一種證書" in await me.press("我自己填")

    def broken(data: bytes) -> str:
        raise RuntimeError("model missing")

    use_certificates(ocr_app, ocr=broken)
    assert "哪一種證書" in await me.photo(_file(tmp_path, "d.jpg", images.jpeg_with_gps()))


def test_rapidocr_reads_a_generated_certificate() -> None:
    pytest.importorskip("rapidocr_onnxruntime", reason="the optional [ocr] extra is not installed")
    import io
    import random

    from bench.ocr import Truth, draw_certificate
    from bot.services.certificates import rapidocr_reader

    reader = rapidocr_reader()
    assert reader is not None
    truth = Truth("gept", "中高級", date(2024, 2, 20))
    page = draw_certificate(truth, random.Random(1))
    out = io.BytesIO()
    page.save(out, format="JPEG")
    assert parse_prefill(reader(out.getvalue()), SETTINGS) == Prefill("gept", 2, date(2024, 2, 20))
