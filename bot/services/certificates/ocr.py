"""Reading the certificate (part 6 of issue 12): an OCR prefill the employee confirms, never a decision.

Optional: :func:`rapidocr_reader` uses rapidocr-onnxruntime when it is installed (``pip install
'abc-learning-bot[ocr]'``; its PP-OCRv4 Chinese/English models ship inside the wheel, so nothing is
downloaded at run time), else there is no reader and the wizard asks as usual. bench/ocr.py measured it
against tesseract (chi_tra+eng) on generated certificates: rapidocr read test, level and date right on
8/8 clean, 7/8 rotated 6°, 5/8 photographed and 8/8 sideways photos at 1–2 s each on this machine;
tesseract 5/8, 0/8, 8/8 and 5/8 at 3 s.

:func:`parse_prefill` is pure: what OCR text says about the test, the level and the date, using the
names of ``certificates.yaml``; anything unsure is left out (None) and asked as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.dates import gregorian_year
from bot.services.certificates.settings import CertificateSettings
from bot.textfold import fold

OcrReader = Callable[[bytes], str]
"""Image bytes (the stored JPEG) → the text read, lines joined."""

_KEYWORDS = {"gept": ("全民英", "GEPT"), "hakka": ("客語",), "toeic_lr": ("TOEIC", "多益"), "ielts": ("IELTS", "雅思"),
             "toefl_ibt": ("TOEFL", "托福"), "cambridge": ("CAMBRIDGE", "劍橋")}
_DATE = re.compile(r"(?:民國|國|發證日期[:：]?|寄發日期[:：]?)\D{0,3}(\d{2,3})年(\d{1,2})月(\d{1,2})日")


@dataclass(frozen=True)
class Prefill:
    """What the photo seems to say (each part None when unsure)."""

    test_id: str
    level_index: int | None
    dated: date | None


def parse_prefill(text: str, settings: CertificateSettings) -> Prefill | None:
    """The test (exactly one recognised), its named level and the ROC date in OCR text; None without a test."""
    folded = fold(text).replace(" ", "").upper()  # NFKC, and simplified → traditional (OCR models mix them: 中高级)
    tests = [t for t, words in _KEYWORDS.items() if any(w.upper() in folded for w in words)
             and any(d.id == t for d in settings.tests)]
    if len(tests) != 1:
        return None
    test = settings.test(tests[0])
    level = None
    if test.levels:
        found = [(len(lv.label), i) for i, lv in enumerate(test.levels) if fold(lv.label).upper() in folded]
        level = max(found)[1] if found else None
    m = _DATE.search(folded)
    dated = None
    if m:
        try:
            dated = date(gregorian_year(int(m[1])), int(m[2]), int(m[3]))
        except ValueError:
            dated = None
    return Prefill(test.id, level, dated)


def rapidocr_reader() -> OcrReader | None:
    """The rapidocr-onnxruntime reader (its engine is made at the first photo), or None when not installed."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return None
    engine: list[object] = []

    def read(data: bytes) -> str:
        import io

        import numpy as np
        from PIL import Image
        from rapidocr_onnxruntime import RapidOCR

        if not engine:
            engine.append(RapidOCR())
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image.convert("RGB"))
        result, _ = engine[0](pixels)  # type: ignore[operator]
        return "\n".join(str(r[1]) for r in result or [])

    return read
