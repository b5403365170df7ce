"""Is it a usable certificate photo? Pillow decides, before anything is stored.

What comes in is bytes from any channel (a LINE image or file, a Telegram photo or document, a console
path). :func:`validate_photo` answers a :class:`Photo` (re-encoded) or a :class:`PhotoProblem` (one key
of ``bot/texts/certificates.yaml``):

- the format is sniffed from the bytes, never taken from a file name: JPEG, PNG, WebP, HEIC/HEIF
  (pillow-heif) or a PDF, whose first page is rendered with pypdfium2 (PDFium, Chrome's PDF engine) at a
  resolution that fits ``stored_max_side``;
- the pixel count is checked from the header *before* decoding (``max_pixels``; Pillow's own
  ``DecompressionBombError`` backs it up), so a 1 KB file claiming 50,000 × 50,000 pixels is refused
  without allocating its pixels;
- a side under ``min_side`` is too small to read;
- the image is decoded fully (a truncated file fails here; a JPEG at the smallest of 1/2, 1/4, 1/8
  scale that still fits ``stored_max_side``), turned upright by its EXIF orientation, and re-encoded as
  a fresh JPEG: the new file carries no EXIF, no GPS, no XMP, no ICC profile, no comment.

It is CPU work (bench/photos.py: a 12 MP phone JPEG ~0.5 s, a 12 MP HEIC ~0.9 s on this machine), so the
handler runs it in a worker thread (Pillow releases the GIL while decoding) and the event loop keeps
answering other people.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.services.certificates.settings import PhotoLimits
from bot.services.common.pictures import flatten, jpeg_bytes

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "MPO"})
PDF_MAGIC = b"%PDF-"
_HEIF_READY = False


def _register_heif() -> bool:
    """Teach Pillow HEIC (iPhone photos) once; False when pillow-heif is not installed."""
    global _HEIF_READY
    if not _HEIF_READY:
        try:
            import pillow_heif
        except ImportError:  # pragma: no cover - it is a dependency
            return False
        pillow_heif.register_heif_opener()
        _HEIF_READY = True
    return True


@dataclass(frozen=True)
class Photo:
    """A validated photo, re-encoded: JPEG bytes without metadata, their SHA-256, size and pixel size."""

    data: bytes
    sha256: str
    width: int
    height: int
    source_type: str
    """What was sent: ``image/jpeg``, ``image/png``, ``image/webp``, ``image/heic`` or ``application/pdf``."""
    media_type: str = "image/jpeg"

    @property
    def size(self) -> int:
        """Bytes stored."""
        return len(self.data)


@dataclass(frozen=True)
class PhotoProblem:
    """Why nothing was stored: ``not_image``, ``broken``, ``too_many_pixels``, ``too_small``, ``pdf_unreadable``."""

    key: str
    values: dict[str, int]


_SOURCE_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
                 "HEIF": "image/heic"}


def _render_pdf(data: bytes, limits: PhotoLimits) -> Image.Image | PhotoProblem:
    """The first page of a PDF as an image fitting ``stored_max_side`` (a score report), or why not."""
    try:
        import pypdfium2 as pdfium
    except ImportError:  # pragma: no cover - it is a dependency
        return PhotoProblem("pdf_unreadable", {})
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return PhotoProblem("pdf_unreadable", {})
    try:
        if len(pdf) == 0:
            return PhotoProblem("pdf_unreadable", {})
        page = pdf[0]
        width, height = page.get_size()  # points (1/72 inch)
        if width <= 0 or height <= 0:
            return PhotoProblem("pdf_unreadable", {})
        scale = min(limits.stored_max_side / max(width, height), 4.0)
        image: Image.Image = page.render(scale=scale).to_pil()
        return image.convert("RGB")
    except pdfium.PdfiumError:
        return PhotoProblem("pdf_unreadable", {})
    finally:
        pdf.close()


def _open(data: bytes, limits: PhotoLimits) -> tuple[Image.Image, str] | PhotoProblem:
    """Open the bytes as an image (header only), checking format and pixel count before decoding."""
    if data.startswith(PDF_MAGIC):
        rendered = _render_pdf(data, limits)
        return rendered if isinstance(rendered, PhotoProblem) else (rendered, "application/pdf")
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS - {"MPO"}))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return PhotoProblem("too_many_pixels", {"max_mp": limits.max_pixels // 1_000_000})
    except UnidentifiedImageError:
        return PhotoProblem("not_image", {})
    except (OSError, ValueError, SyntaxError):
        return PhotoProblem("broken", {})
    if image.format not in ALLOWED_FORMATS:
        return PhotoProblem("not_image", {})
    if image.width * image.height > limits.max_pixels:
        return PhotoProblem("too_many_pixels", {"max_mp": limits.max_pixels // 1_000_000})
    return image, _SOURCE_TYPES[str(image.format)]


def validate_photo(data: bytes, limits: PhotoLimits) -> Photo | PhotoProblem:
    """Check and re-encode a photo (module docstring); pure apart from CPU: nothing is written anywhere."""
    if not data:
        return PhotoProblem("broken", {})
    opened = _open(data, limits)
    if isinstance(opened, PhotoProblem):
        return opened
    image, source_type = opened
    if min(image.size) < limits.min_side:
        return PhotoProblem("too_small", {"min_side": limits.min_side})
    if image.format in ("JPEG", "MPO"):  # decode at 1/2, 1/4 or 1/8 scale when that still fits: 3-5× faster
        image.draft("RGB", (limits.stored_max_side, limits.stored_max_side))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return PhotoProblem("too_many_pixels", {"max_mp": limits.max_pixels // 1_000_000})
    except (OSError, ValueError, SyntaxError):
        return PhotoProblem("broken", {})
    clean = flatten(upright)
    clean.thumbnail((limits.stored_max_side, limits.stored_max_side), Image.Resampling.LANCZOS)
    encoded = jpeg_bytes(clean, limits.jpeg_quality)
    return Photo(encoded, hashlib.sha256(encoded).hexdigest(), clean.width, clean.height, source_type)




def preview(data: bytes, max_side: int, quality: int = 80) -> bytes:
    """A small JPEG of a stored photo (LINE's ``previewImageUrl``: ≤ 1 MB)."""
    with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()
