"""Signed, expiring links to a claim's photo: ``/media/claims/<id>/<variant>/<expires>/<signature>.jpg``.

The signature is HMAC-SHA256 (``MEDIA_URL_SECRET``) over the claim id, the variant (``full`` or
``preview``) and the expiry (Unix seconds), URL-safe base64 without padding, compared in constant time.
A guessed, tampered or expired link answers the same bare 404 as a claim that does not exist, so it
leaks nothing; links live ``ttl`` seconds (10 minutes), long enough for LINE to fetch the image.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

VARIANTS = ("full", "preview")
PATH_PREFIX = "/media/claims/"
_PATH = re.compile(r"^/media/claims/(\d{1,12})/(full|preview)/(\d{1,12})/([A-Za-z0-9_-]{43})\.jpg$")


@dataclass(frozen=True)
class SignedPhoto:
    """What a valid link names."""

    claim_id: int
    variant: str


@dataclass(frozen=True)
class UrlSigner:
    """Makes and checks photo links."""

    secret: bytes
    base_url: str
    ttl_seconds: int = 600

    def _mac(self, claim_id: int, variant: str, expires: int) -> str:
        msg = f"{claim_id}:{variant}:{expires}".encode()
        digest = hmac.new(self.secret, msg, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def path(self, claim_id: int, variant: str, now: datetime) -> str:
        """The signed path of a claim's photo, valid until ``now + ttl``."""
        if variant not in VARIANTS:
            raise ValueError(variant)
        expires = int(now.timestamp()) + self.ttl_seconds
        return f"{PATH_PREFIX}{claim_id}/{variant}/{expires}/{self._mac(claim_id, variant, expires)}.jpg"

    def url(self, claim_id: int, variant: str, now: datetime) -> str:
        """The full HTTPS link (``PUBLIC_BASE_URL`` + the signed path)."""
        return self.base_url.rstrip("/") + self.path(claim_id, variant, now)

    def verify(self, path: str, now: datetime) -> SignedPhoto | None:
        """The claim and variant a link names, or None when it is malformed, tampered with or expired."""
        m = _PATH.match(path)
        if m is None:
            return None
        claim_id, variant, expires, mac = int(m[1]), m[2], int(m[3]), m[4]
        if not hmac.compare_digest(mac, self._mac(claim_id, variant, expires)):
            return None
        if now.timestamp() > expires:
            return None
        return SignedPhoto(claim_id, variant)
