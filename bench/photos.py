"""Certificate photo validation: time per photo by format, and what a decompression bomb costs.

Run: .venv/bin/python bench/photos.py [--rounds N]
Each input is made here (tests/certificates/images.py): a 12-megapixel phone JPEG with EXIF GPS
(4000 × 3000), the same as HEIC, a PNG screenshot (1170 × 2532), a one-page PDF score report, and a
PNG bomb of 100 megapixels that compresses to ~97 KB. Prints the median and the worst round in ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import load_rules
from bot.services.certificates import Photo, load_certificate_settings, validate_photo
from tests.certificates import images


def _heic(size: tuple[int, int]) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    images.certificate(size).save(out, format="HEIF", quality=80)
    return out.getvalue()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    limits = load_certificate_settings(DEFAULT_DATA_DIR, 113, load_rules(DEFAULT_DATA_DIR, 113)).photos
    inputs = {
        "jpeg 12 MP with GPS": images.jpeg_with_gps((4000, 3000)),
        "heic 12 MP": _heic((4000, 3000)),
        "png screenshot 1170x2532": images.encoded("PNG", (1170, 2532)),
        "pdf one page": images.pdf(),
        "png bomb 100 MP": images.png_bomb(),
    }
    print(f"{'input':28} {'bytes':>10} {'median ms':>10} {'worst ms':>9}  result")
    for name, data in inputs.items():
        times, result = [], None
        for _ in range(rounds):
            started = time.perf_counter()
            result = validate_photo(data, limits)
            times.append((time.perf_counter() - started) * 1000)
        if isinstance(result, Photo):
            with Image.open(io.BytesIO(result.data)) as im:
                what = f"stored {im.size[0]}x{im.size[1]} JPEG {result.size} bytes, exif {bool(im.getexif())}"
        else:
            what = f"refused: {getattr(result, 'key', '?')}"
        print(f"{name:28} {len(data):>10} {statistics.median(times):>10.1f} {max(times):>9.1f}  {what}")


if __name__ == "__main__":
    main()
