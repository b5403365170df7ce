"""Photo validation and storage: real files of every format, bad ones, EXIF gone, atomic content-addressed files."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import load_rules
from bot.services.certificates import (
    MediaStore,
    Photo,
    PhotoProblem,
    load_certificate_settings,
    preview,
    validate_photo,
)
from tests.certificates import images

LIMITS = load_certificate_settings(DEFAULT_DATA_DIR, 113, load_rules(DEFAULT_DATA_DIR, 113)).photos


@pytest.mark.parametrize(("data", "source_type"), [
    (images.jpeg_with_gps(), "image/jpeg"),
    (images.encoded("PNG"), "image/png"),
    (images.encoded("WEBP"), "image/webp"),
    (images.encoded("HEIF"), "image/heic"),
    (images.pdf(), "application/pdf"),
], ids=["jpeg", "png", "webp", "heic", "pdf"])
def test_every_accepted_format_becomes_a_clean_jpeg(data: bytes, source_type: str) -> None:
    photo = validate_photo(data, LIMITS)
    assert isinstance(photo, Photo), photo
    assert photo.source_type == source_type and photo.media_type == "image/jpeg"
    with Image.open(io.BytesIO(photo.data)) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif() and "exif" not in stored.info and "icc_profile" not in stored.info
        assert max(stored.size) <= LIMITS.stored_max_side


def test_the_gps_position_and_the_camera_are_gone_and_the_photo_is_upright() -> None:
    original = images.jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(0x8825)  # the test photo really has a GPS position
        assert before.size == (1200, 850)
    photo = validate_photo(original, LIMITS)
    assert isinstance(photo, Photo)
    assert b"PhoneMaker" not in photo.data and b"Exif" not in photo.data
    assert (photo.width, photo.height) == (850, 1200)  # EXIF orientation 6 applied before it was dropped


@pytest.mark.parametrize(("data", "key"), [
    (images.NOT_AN_IMAGE, "not_image"),
    (b"hello, this is text", "not_image"),
    (images.broken_jpeg(), "broken"),
    (b"", "broken"),
    (images.png_bomb(), "too_many_pixels"),
    (images.encoded("PNG", (300, 900)), "too_small"),
    (b"%PDF-1.7 not really a pdf", "pdf_unreadable"),
], ids=["docx", "text", "truncated", "empty", "bomb", "tiny", "bad-pdf"])
def test_bad_files_get_one_reason(data: bytes, key: str) -> None:
    problem = validate_photo(data, LIMITS)
    assert isinstance(problem, PhotoProblem) and problem.key == key


def test_a_bomb_is_refused_without_decoding_it() -> None:
    import time

    bomb = images.png_bomb()
    started = time.perf_counter()
    assert isinstance(validate_photo(bomb, LIMITS), PhotoProblem)
    assert time.perf_counter() - started < 0.5  # decoding 100 megapixels would take seconds and 100 MB


def test_files_are_named_by_hash_private_and_written_once(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    photo = validate_photo(images.jpeg_with_gps(), LIMITS)
    assert isinstance(photo, Photo)
    path = store.put(photo.sha256, photo.data)
    assert path.name == f"{photo.sha256}.jpg" and path.parent.name == photo.sha256[:2]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    mtime = path.stat().st_mtime_ns
    assert store.put(photo.sha256, photo.data) == path and path.stat().st_mtime_ns == mtime
    assert store.read(photo.sha256) == photo.data
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]
    assert store.delete(photo.sha256) and store.read(photo.sha256) is None and not store.delete(photo.sha256)
    with pytest.raises(ValueError):
        store.path_of("../../etc/passwd")


def test_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MediaStore(tmp_path)

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        store.put("a" * 64, b"data")
    assert not store.path_of("a" * 64).exists()
    assert list(store.path_of("a" * 64).parent.iterdir()) == []


def test_the_preview_fits_line() -> None:
    photo = validate_photo(images.jpeg_with_gps(), LIMITS)
    assert isinstance(photo, Photo)
    small = preview(photo.data, LIMITS.preview_max_side)
    with Image.open(io.BytesIO(small)) as im:
        assert max(im.size) == LIMITS.preview_max_side
    assert len(small) < 1_000_000
