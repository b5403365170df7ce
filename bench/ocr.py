"""OCR prefill (part 6 of issue 12), measured only: rapidocr-onnxruntime against tesseract (chi_tra+eng).

Run: /path/to/python bench/ocr.py [--per-variant N]   (needs a CJK font, e.g. Debian's fonts-wqy-microhei;
rapidocr-onnxruntime in that Python, and/or Debian's tesseract-ocr + tesseract-ocr-chi-tra)

Neither is a dependency of the bot: this decides whether one should be. Both run here without downloading
anything at run time (rapidocr's PP-OCRv4 ONNX models are inside its wheel; tesseract's data come from
Debian). Certificate-like images are generated (GEPT and Hakka wording in traditional Chinese with an
English line, random level and date) in four variants: clean, rotated 6°, photographed (perspective,
blur, noise, uneven light, JPEG q60) and sideways (90°). A field is right when the parser below reads
exactly the test, the level and the issue date that were drawn. Prints per engine and variant: fields
right, all three right, median seconds per photo.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from datetime import date

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LEVELS = {"gept": ["初級", "中級", "中高級", "高級"], "hakka": ["初級", "中級", "中高級"]}
EN_LEVEL = {"初級": "Elementary", "中級": "Intermediate", "中高級": "High-Intermediate", "高級": "Advanced"}


@dataclass(frozen=True)
class Truth:
    """What was drawn."""

    test: str
    level: str
    issued: date


def draw_certificate(truth: Truth, rng: random.Random) -> Image.Image:
    """A certificate page as a scanner would see it."""
    page = Image.new("RGB", (1600, 1130), (250, 248, 240))
    d = ImageDraw.Draw(page)
    big, mid, small = (ImageFont.truetype(FONT, s) for s in (64, 44, 34))
    d.rectangle((30, 30, 1570, 1100), outline=(120, 90, 40), width=10)
    roc = f"中華民國{truth.issued.year - 1911}年{truth.issued.month}月{truth.issued.day}日"
    if truth.test == "gept":
        lines = [("財團法人語言訓練測驗中心", mid), ("全民英語能力分級檢定測驗", big),
                 (f"{truth.level}  合格證書", big), (f"GEPT {EN_LEVEL[truth.level]} Level Certificate", mid),
                 (f"姓名：{rng.choice(['王小明', '陳美玲', '林志豪'])}", mid),
                 (f"證書字號：{rng.randint(10**7, 10**8)}", small), (f"發證日期：{roc}", mid),
                 (f"Date of Issue: {truth.issued:%B} {truth.issued.day}, {truth.issued.year}", small)]
    else:
        lines = [("客家委員會", mid), ("客語能力認證", big), (f"{truth.level}  合格證書", big),
                 (f"姓名：{rng.choice(['黃阿妹', '劉德華', '鍾明'])}", mid), (f"發證日期：{roc}", mid)]
    y = 110
    for text, font in lines:
        w = d.textlength(text, font=font)
        d.text(((1600 - w) / 2, y), text, fill=(20, 20, 20), font=font)
        y += font.size + 48
    return page


def photographed(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo of the page: tilted in perspective, soft, noisy, unevenly lit, compressed."""
    w, h = image.size
    dx, dy = w * 0.06, h * 0.06
    quad = (rng.uniform(0, dx), rng.uniform(0, dy), rng.uniform(0, dx), h - rng.uniform(0, dy),
            w - rng.uniform(0, dx), h - rng.uniform(0, dy), w - rng.uniform(0, dx), rng.uniform(0, dy))
    out = image.transform((w, h), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=(90, 80, 70))
    out = out.filter(ImageFilter.GaussianBlur(1.3))
    light = Image.linear_gradient("L").resize((w, h)).point(lambda v: 150 + v // 3)
    out = Image.composite(out, Image.new("RGB", (w, h), (40, 40, 40)), light)
    noise = Image.effect_noise((w, h), 18).convert("RGB")
    out = Image.blend(out, noise, 0.08)
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=60)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


VARIANTS = {
    "clean": lambda im, rng: im,
    "rotated 6°": lambda im, rng: im.rotate(6, expand=True, fillcolor=(90, 80, 70)),
    "photographed": photographed,
    "sideways 90°": lambda im, rng: im.rotate(90, expand=True),
}


def parse_fields(text: str) -> tuple[str | None, str | None, date | None]:
    """Test, level and issue date from OCR text (what a prefill would offer the employee to confirm)."""
    t = unicodedata.normalize("NFKC", text).replace(" ", "")
    test = "hakka" if "客語" in t else ("gept" if ("全民英" in t or "GEPT" in t.upper()) else None)
    level = next((lv for lv in ("中高級", "高級", "中級", "初級") if lv + "合格" in t or lv + "證書" in t), None)
    if level is None:
        level = next((lv for lv in ("中高級", "中級", "初級", "高級") if lv in t), None)
    m = (re.search(r"(?:民國|國)(\d{2,3})年(\d{1,2})月(\d{1,2})日", t)
         or re.search(r"發證日期[:：]?\D{0,4}(\d{2,3})年(\d{1,2})月(\d{1,2})日", t))
    issued = None
    if m:
        try:
            issued = date(int(m[1]) + 1911, int(m[2]), int(m[3]))
        except ValueError:
            issued = None
    return test, level, issued


def rapid_engine():  # type: ignore[no-untyped-def]
    """rapidocr-onnxruntime, or None when it is not installed in this Python."""
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    import numpy as np

    engine = RapidOCR()

    def run(image: Image.Image) -> str:
        result, _ = engine(np.asarray(image))
        return "\n".join(r[1] for r in result or [])
    return run


def tesseract_engine():  # type: ignore[no-untyped-def]
    """Tesseract chi_tra+eng with orientation detection, or None when it is not installed."""
    if shutil.which("tesseract") is None:
        return None

    def run(image: Image.Image) -> str:
        with tempfile.NamedTemporaryFile(suffix=".png") as f:
            image.save(f.name)
            osd = subprocess.run(["tesseract", f.name, "-", "--psm", "0"], capture_output=True, text=True, check=False)
            rotate = re.search(r"Rotate: (\d+)", osd.stdout)
            if rotate and rotate[1] != "0":
                image.rotate(-int(rotate[1]), expand=True).save(f.name)
            out = subprocess.run(["tesseract", f.name, "-", "-l", "chi_tra+eng", "--psm", "3"], capture_output=True,
                                 text=True, check=False)
        return out.stdout
    return run


def main() -> None:
    """Print the comparison."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-variant", type=int, default=8)
    n = parser.parse_args().per_variant
    rng = random.Random(113)
    samples = []
    for _ in range(n):
        test = rng.choice(["gept", "gept", "hakka"])
        truth = Truth(test, rng.choice(LEVELS[test]), date(2024, rng.randint(1, 12), rng.randint(1, 28)))
        samples.append((truth, draw_certificate(truth, rng)))
    engines = {"rapidocr-onnxruntime": rapid_engine(), "tesseract chi_tra+eng": tesseract_engine()}
    print(f"{'engine':24} {'variant':14} {'test':>5} {'level':>6} {'date':>5} {'all 3':>6} {'s/photo':>8}")
    for name, engine in engines.items():
        if engine is None:
            print(f"{name:24} not installed here")
            continue
        for variant, make in VARIANTS.items():
            right = [0, 0, 0, 0]
            times = []
            for truth, page in samples:
                image = make(page, rng)
                started = time.perf_counter()
                text = engine(image)
                times.append(time.perf_counter() - started)
                got = parse_fields(text)
                hits = [got[0] == truth.test, got[1] == truth.level, got[2] == truth.issued]
                for i, hit in enumerate(hits):
                    right[i] += hit
                right[3] += all(hits)
            cells = " ".join(f"{r:>{w}}/{n}" for r, w in zip(right, (3, 4, 3, 4), strict=True))
            print(f"{name:24} {variant:14} {cells} {statistics.median(times):>8.2f}")


if __name__ == "__main__":
    main()
