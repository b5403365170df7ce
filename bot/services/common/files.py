"""Private files written whole or not at all (certificate photos, announcement pictures)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private(final: Path, data: bytes) -> None:
    """Write ``data`` to ``final`` atomically (a temporary file renamed over it), 0600 in 0700 folders."""
    final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
