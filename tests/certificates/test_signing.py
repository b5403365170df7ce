"""Signed photo links: valid until they expire; a tampered, guessed or expired link is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.certificates import UrlSigner

NOW = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
SIGNER = UrlSigner(b"s3cret", "https://bot.example.tw/", 600)


def test_a_link_works_until_it_expires() -> None:
    path = SIGNER.path(12, "full", NOW)
    assert SIGNER.url(12, "full", NOW) == "https://bot.example.tw" + path
    ok = SIGNER.verify(path, NOW + timedelta(seconds=600))
    assert ok is not None and (ok.claim_id, ok.variant) == (12, "full")
    assert SIGNER.verify(path, NOW + timedelta(seconds=601)) is None


def _tampered(path: str) -> list[str]:
    parts = path.split("/")  # ['', 'media', 'claims', id, variant, expires, sig.jpg]
    claim, expires, sig = parts[3], parts[5], parts[6]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    return [
        path.replace(f"/{claim}/", f"/{int(claim) + 1}/", 1),            # another claim
        path.replace("/full/", "/preview/"),                             # another variant
        path.replace(f"/{expires}/", f"/{int(expires) + 3600}/"),        # a later expiry
        "/".join([*parts[:6], flipped]),                                 # a changed signature
        path[:-4],                                                       # no .jpg
        path + "x",
        f"/media/claims/{claim}/full/{expires}/" + "A" * 43 + ".jpg",    # a guess
    ]


@pytest.mark.parametrize("index", range(7))
def test_tampered_links_are_refused(index: int) -> None:
    path = SIGNER.path(12, "full", NOW)
    assert SIGNER.verify(_tampered(path)[index], NOW) is None


def test_another_secret_does_not_verify() -> None:
    path = SIGNER.path(12, "full", NOW)
    assert UrlSigner(b"other", "https://bot.example.tw").verify(path, NOW) is None
