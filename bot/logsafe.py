"""Log lines that never carry personal data or raw input, even when something fails.

A database error's text quotes what was sent (SQLAlchemy's ``[parameters: ('TY7781205',)]``, asyncpg's
``invalid input for query argument $1: 'TY7781205'``, PostgreSQL's ``DETAIL: Key (x)=(…)``), and so can any
exception built from user input. :func:`failure` keeps what an operator needs to find the bug (the
exception types and where they were raised, file and line of each frame) and leaves every message out.
"""

from __future__ import annotations

import logging
import traceback

MAX_LABEL = 40


def failure(exc: BaseException) -> str:
    """``TypeError <- DataError at bot/x.py:12 in f; …``: exception types and frames, no message text."""
    chain: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 5:
        seen.add(id(current))
        chain.append(type(current).__name__)
        orig = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's exception
        if isinstance(orig, BaseException) and id(orig) not in seen:
            seen.add(id(orig))
            chain.append(type(orig).__name__)
        current = current.__cause__ or current.__context__
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    where = "; ".join(f"{_short(f.filename)}:{f.lineno} in {f.name}" for f in frames)
    return f"{' <- '.join(chain)} at {where or '?'}"


def _short(filename: str) -> str:
    for marker in ("/bot/", "/handlers/", "/site-packages/"):
        if marker in filename:
            return filename[filename.rindex(marker) + 1:]
    return filename.rsplit("/", 1)[-1]


def log_failure(logger: logging.Logger, what: str, exc: BaseException, *args: object) -> None:
    """``logger.error(what + " error=…")`` with :func:`failure` instead of a traceback with messages."""
    logger.error(what + " error=%s", *args, failure(exc))


def label(value: object) -> str:
    """A short, printable form of something the network sent, for a log line (ASCII letters, digits, ``_.-``)."""
    text = str(value)
    clean = "".join(c if c.isascii() and (c.isalnum() or c in "_.-") else "?" for c in text[:MAX_LABEL])
    return clean + ("…" if len(text) > MAX_LABEL else "")


_CONTROL = {c: "?" for c in (*range(0, 32), 127)}


def one_line(text: str, limit: int = 200) -> str:
    """``text`` fit for one log line: control characters (CR, LF, NUL …) as ``?``, at most ``limit`` characters."""
    out = text[:limit].translate(_CONTROL).encode("utf-8", "backslashreplace").decode("utf-8")
    return out + ("…" if len(text) > limit else "")


class SafeRecords(logging.Filter):
    """A filter for loggers of libraries that log what the network sent (the LINE SDK's ``type=<raw>``).

    The message is rendered, then cut to one short line; any exception is reduced to :func:`failure`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            text = record.getMessage()
        except Exception:  # a message whose arguments do not fit it
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += " error=" + failure(record.exc_info[1])
        record.msg, record.args = one_line(text, 300), ()
        record.exc_info, record.exc_text = None, None
        return True


class ShortHttpErrors(logging.Filter):
    """aiohttp's server logger: a malformed request becomes one short WARNING line, not an ERROR traceback.

    Anything the peer sent (a request line, a header) is never quoted; other errors keep their level and
    lose only the message text (see :func:`failure`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        if _peer_fault(exc):
            record.msg, record.args = "malformed HTTP request refused error=%s", (type(exc).__name__,)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        else:
            record.msg, record.args = "HTTP request failed error=%s", (failure(exc),)
        record.exc_info, record.exc_text = None, None
        return True


_PEER_FAULTS = ("RequestPayloadError", "ClientPayloadError", "ContentEncodingError", "ConnectionResetError",
                "IncompleteReadError")


def _peer_fault(exc: BaseException) -> bool:
    """True when the peer sent something unreadable (a 4xx of aiohttp's parser, a damaged body, a reset)."""
    current: BaseException | None = exc
    for _ in range(5):
        if current is None:
            return False
        status = getattr(current, "code", None) or getattr(current, "status", None)
        if type(current).__module__.startswith("aiohttp.") and isinstance(status, int) and 400 <= status < 500:
            return True
        if type(current).__name__ in _PEER_FAULTS:
            return True
        current = current.__cause__ or current.__context__
    return False


def install(logger_name: str, log_filter: logging.Filter) -> None:
    """Add ``log_filter`` to a logger once (a filter acts on its own logger's records only, not children's)."""
    logger = logging.getLogger(logger_name)
    if not any(type(f) is type(log_filter) for f in logger.filters):
        logger.addFilter(log_filter)
