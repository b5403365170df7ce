"""Pictures re-encoded with nothing but their pixels (imported by its path, so Pillow loads only where needed)."""

from __future__ import annotations

import io

from PIL import Image


def flatten(image: Image.Image) -> Image.Image:
    """Pixels only, as RGB on white (a PNG's transparency), in a new image with no metadata."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    rgb = image.convert("RGB")
    fresh = Image.new("RGB", rgb.size)
    fresh.paste(rgb)
    return fresh


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    """``image`` as JPEG bytes; no ``exif=`` or ``icc_profile=`` is passed, so none is kept."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
