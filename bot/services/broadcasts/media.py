"""An announcement's picture: checked, re-encoded, kept under ``MEDIA_DIR`` and served at signed public links.

LINE shows an image message only from HTTPS links (``originalContentUrl`` ≤ 10 MB, ``previewImageUrl``
≤ 1 MB, JPEG or PNG), so HR's file is not sent: it is checked here (a JPEG or PNG of at most
:data:`MAX_BYTES`, one that opens), re-encoded as JPEG without its metadata (a phone photo's place and
camera are not handed to thousands of people), cut to :data:`MAX_SIDE` pixels, and stored with a
:data:`PREVIEW_SIDE` preview as ``<MEDIA_DIR>/announcements/<ab>/<sha256>.jpg`` and ``….preview.jpg``.
``abc-bot serve`` serves them at ``PUBLIC_BASE_URL`` + ``/media/announcements/<sha256>/<full|preview>/<sig>.jpg``
(:mod:`bot.web_media`): the signature is an HMAC (``MEDIA_URL_SECRET``) over the hash and the variant, so
only pictures HR sent can be fetched. Such a link does not expire: an announcement's picture is meant for
every recipient, who may open it days later (a certificate photo's link, personal, lives 10 minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.services.broadcasts.compose import ComposeError
from bot.services.common.files import write_private
from bot.services.common.pictures import flatten, jpeg_bytes

MAX_BYTES = 10 * 1024 * 1024
"""LINE's limit for an image message's original (10 MB), for HR's file and for what we serve."""
MAX_SIDE = 2048
PREVIEW_SIDE = 240
MAX_PIXELS = 40_000_000
"""Refused beyond this (a decompression bomb, or a poster scanned at print resolution)."""
VARIANTS = ("full", "preview")
PATH_PREFIX = "/media/announcements/"
_PATH = re.compile(r"^/media/announcements/([0-9a-f]{64})/(full|preview)/([A-Za-z0-9_-]{43})\.jpg$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class PreparedImage:
    """HR's picture made ready: the JPEG to serve, its preview, and the hash that names both."""

    full: bytes
    preview: bytes
    sha256: str


def prepare_image(data: bytes) -> PreparedImage:
    """Check HR's file (JPEG or PNG, ≤ 10 MB, opens) and re-encode it without metadata.

    Raises:
        ComposeError: not a JPEG or PNG, too large, or broken (one sentence for HR).
    """
    if len(data) > MAX_BYTES:
        raise ComposeError(f"the image is {len(data) / 1024 / 1024:.1f} MB; LINE takes at most 10 MB")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise ComposeError("the image must be a JPEG or PNG file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise ComposeError(f"the image has more than {MAX_PIXELS // 1_000_000} million pixels")
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ComposeError("the image cannot be read (a damaged JPEG or PNG)") from None
    clean = flatten(image)
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    full = jpeg_bytes(clean, 85)
    if len(full) > MAX_BYTES:  # a 2048-px JPEG is far below this; said rather than sent if not
        raise ComposeError("the image is larger than LINE's 10 MB even as a JPEG")
    small = clean.copy()
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    return PreparedImage(full, jpeg_bytes(small, 80), hashlib.sha256(full).hexdigest())






class ImageStore:
    """The announcements' picture folder: put and read by SHA-256 and variant."""

    def __init__(self, media_dir: Path) -> None:
        self.root = media_dir / "announcements"

    def path_of(self, sha256: str, variant: str) -> Path:
        """Where a picture lives (ValueError for anything but a lower-case SHA-256 hex and a known variant)."""
        if not _HASH.match(sha256) or variant not in VARIANTS:
            raise ValueError("not a stored announcement picture")
        return self.root / sha256[:2] / (f"{sha256}.jpg" if variant == "full" else f"{sha256}.preview.jpg")

    def put(self, image: PreparedImage) -> None:
        """Write both variants, each atomically (a temporary file renamed over the name); existing ones are kept."""
        for variant, data in (("full", image.full), ("preview", image.preview)):
            final = self.path_of(image.sha256, variant)
            if not final.exists():
                write_private(final, data)

    def read(self, sha256: str, variant: str) -> bytes | None:
        """A picture's bytes, or None when there is none."""
        try:
            return self.path_of(sha256, variant).read_bytes()
        except (FileNotFoundError, ValueError):
            return None


@dataclass(frozen=True)
class ImageSigner:
    """Makes and checks the public links of announcement pictures (no expiry; see the module docstring)."""

    secret: bytes
    base_url: str

    def _mac(self, sha256: str, variant: str) -> str:
        digest = hmac.new(self.secret, f"announcement:{sha256}:{variant}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def url(self, sha256: str, variant: str) -> str:
        """The full HTTPS link of a stored picture."""
        if variant not in VARIANTS:
            raise ValueError(variant)
        return f"{self.base_url.rstrip('/')}{PATH_PREFIX}{sha256}/{variant}/{self._mac(sha256, variant)}.jpg"

    def verify(self, path: str) -> tuple[str, str] | None:
        """The (sha256, variant) a link names, or None when it is malformed or its signature is wrong."""
        m = _PATH.match(path)
        if m is None or not hmac.compare_digest(m[3], self._mac(m[1], m[2])):
            return None
        return m[1], m[2]


def publish_image(data: bytes, store: ImageStore, signer: ImageSigner) -> tuple[str, str]:
    """Check, store and sign HR's picture; its (image URL, preview URL) for :class:`~.compose.Content`.

    Raises:
        ComposeError: the file LINE would not show (see :func:`prepare_image`).
    """
    image = prepare_image(data)
    store.put(image)
    return signer.url(image.sha256, "full"), signer.url(image.sha256, "preview")
