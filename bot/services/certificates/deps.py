"""What the certificate services need besides a session: the rules, the tests, the photo folder, the notifier."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.catalog import RulesFile
from bot.services.certificates.ocr import OcrReader
from bot.services.certificates.settings import CertificateSettings
from bot.services.certificates.signing import UrlSigner
from bot.services.certificates.storage import MediaStore
from bot.services.notices import Notifier


@dataclass(frozen=True)
class CertDeps:
    """Built once at start-up (``bot.bootstrap.load_app``)."""

    rules: RulesFile
    settings: CertificateSettings
    store: MediaStore
    notices: Notifier
    signer: UrlSigner | None
    """Signs photo links for HR (None when ``MEDIA_URL_SECRET`` or ``PUBLIC_BASE_URL`` is not set)."""
    retention_days: int
    ocr: OcrReader | None = None
    """Reads a photo for the wizard's prefill (None: not installed or ``OCR_PREFILL=false``: asked as usual)."""
