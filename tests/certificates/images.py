"""Certificate-like files made in the test: real JPEG (with EXIF GPS), PNG, WebP, HEIC, a PDF, and bad ones."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw


def certificate(size: tuple[int, int] = (1200, 850), text: str = "GEPT Intermediate 2024-01-05") -> Image.Image:
    """A white page with a border and a line of text, like a photographed certificate."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), outline="navy", width=8)
    draw.text((80, 80), text, fill="black")
    return image


def jpeg_with_gps(size: tuple[int, int] = (1200, 850)) -> bytes:
    """A JPEG whose EXIF holds a camera make, a GPS position and an orientation (rotated 90°)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° CW to view
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (24.0, 59.0, 30.0), "E", (121.0, 18.0, 5.0)
    out = io.BytesIO()
    certificate(size).save(out, format="JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def encoded(fmt: str, size: tuple[int, int] = (1200, 850)) -> bytes:
    """The certificate in ``fmt`` (PNG, WEBP, HEIF, PDF …)."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    out = io.BytesIO()
    image = certificate(size)
    if fmt == "PNG":
        image = image.convert("RGBA")  # a screenshot with an alpha channel
    image.save(out, format=fmt)
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF score report (an image page, as scanners write them)."""
    return encoded("PDF")


def png_bomb(side: int = 10_000) -> bytes:
    """A real PNG of ``side``² black pixels that compresses to ~100 KB: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    comp = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    parts = [comp.compress(row) for _ in range(side)]
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


NOT_AN_IMAGE = b"PK\x03\x04" + b"word/document.xml" + b"\x00" * 200
"""The start of a .docx (a zip)."""


def broken_jpeg() -> bytes:
    """A JPEG cut off in the middle."""
    data = jpeg_with_gps()
    return data[: len(data) // 3]
