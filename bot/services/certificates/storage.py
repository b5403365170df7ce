"""Private, content-addressed photo files under ``MEDIA_DIR`` (never under anything served as-is).

A photo is stored as ``<MEDIA_DIR>/certificates/<ab>/<sha256>.jpg``: named by the hash of its re-encoded
bytes, never after the person, so the same photo sent twice is one file and a file name says nothing.
A write goes to a temporary file in the same folder, is flushed to disk, then renamed over the final name
(``os.replace`` is atomic on one file system), so a reader never sees half a file and a crash leaves at
most a ``.tmp`` file. Folders are created ``0700`` and files ``0600``.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.services.common.files import write_private

_HASH = re.compile(r"^[0-9a-f]{64}$")


class MediaStore:
    """The photo folder: put, read, delete by SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = root / "certificates"

    def path_of(self, sha256: str) -> Path:
        """Where the photo with this hash lives (ValueError for anything but a lower-case SHA-256 hex)."""
        if not _HASH.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / f"{sha256}.jpg"

    def put(self, sha256: str, data: bytes) -> Path:
        """Write ``data`` under its hash, atomically; an existing file (the same bytes) is kept as it is."""
        final = self.path_of(sha256)
        if final.exists():
            return final
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(final, data)
        return final

    def read(self, sha256: str) -> bytes | None:
        """The photo's bytes, or None when it is not there (deleted by retention)."""
        try:
            return self.path_of(sha256).read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    def delete(self, sha256: str) -> bool:
        """Remove the photo's file; True when there was one."""
        try:
            self.path_of(sha256).unlink()
        except FileNotFoundError:
            return False
        return True
