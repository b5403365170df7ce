"""Settings read from the environment (and an optional ``.env`` file) when a command starts.

Every setting is documented in README.md and ``.env.example``; names are a contract with operators.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class ConfigError(ValueError):
    """A setting has a value the bot cannot use."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """All runtime settings of the bot."""

    database_url: str
    data_dir: Path
    plan_year: int
    default_lang: str
    demo_employee_no: str
    log_level: str = "INFO"
    log_file: Path = DEFAULT_VAR_DIR / "abc-bot.log"
    """Where the console chat logs (its terminal shows only the conversation); other commands use stderr."""
    model_cache_dir: Path | None = DEFAULT_VAR_DIR / "cache"
    """Where the trained intent model is kept between starts (None: trained at every start)."""
    line_channel_secret: str | None = None
    line_channel_access_token: str | None = None
    line_api_base_url: str | None = None
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    demo_today: date | None = None
    media_dir: Path = DEFAULT_VAR_DIR / "media"
    """Certificate photos (private, content-addressed; never served as-is, only through signed links)."""
    media_retention_days: int = 90
    """A claim's photo is deleted this many days after HR's decision (the claim record stays)."""
    media_url_secret: str | None = None
    """HMAC key of the signed photo links; without it (or ``public_base_url``) HR gets no photo links."""
    public_base_url: str | None = None
    """The HTTPS address ``abc-bot serve`` is reached at (LINE fetches photos from there), e.g. https://bot.example.tw."""
    media_url_ttl_seconds: int = 600
    ocr_prefill: bool = True
    """Offer what OCR reads from a certificate photo (when rapidocr-onnxruntime is installed) for confirmation."""
    scheduler: bool = True
    """``SCHEDULER``: run the reminders' scheduler in ``serve`` and ``run`` (off: only ``abc-bot scheduler``)."""
    extra: dict[str, str] = field(default_factory=dict)


def default_database_url() -> str:
    """The embedded SQLite database under the project's ``var/`` folder."""
    return f"sqlite:///{DEFAULT_VAR_DIR / 'abc-bot.sqlite3'}"


def _env_date(name: str) -> date | None:
    raw = _env(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date like 2024-03-01, got {raw!r}") from exc


def _cache_dir() -> Path | None:
    """``MODEL_CACHE_DIR``: unset → ``var/cache``; empty → no cache."""
    raw = os.environ.get("MODEL_CACHE_DIR")
    if raw is None:
        return DEFAULT_VAR_DIR / "cache"
    return Path(raw) if raw.strip() else None


def load_settings(env_file: Path | None = None) -> Settings:
    """Read settings from the environment, after loading ``.env`` if there is one.

    Args:
        env_file: a dotenv file to read first; defaults to ``.env`` in the working directory.

    Returns:
        The settings; variables already in the environment win over the file.
    """
    from dotenv import load_dotenv

    load_dotenv(env_file or Path.cwd() / ".env", override=False)
    lang = _env("DEFAULT_LANG", "zh-TW") or "zh-TW"
    if lang not in {"zh-TW", "en"}:
        raise ConfigError(f"DEFAULT_LANG must be zh-TW or en, got {lang!r}")
    return Settings(
        database_url=_env("DATABASE_URL") or default_database_url(),
        data_dir=Path(_env("ABC_DATA_DIR") or DEFAULT_DATA_DIR),
        plan_year=_env_int("PLAN_YEAR", 113),
        default_lang=lang,
        demo_employee_no=_env("DEMO_EMPLOYEE_NO", "T0001") or "T0001",
        log_level=(_env("LOG_LEVEL", "INFO") or "INFO").upper(),
        log_file=Path(_env("LOG_FILE") or DEFAULT_VAR_DIR / "abc-bot.log"),
        model_cache_dir=_cache_dir(),
        line_channel_secret=_env("LINE_CHANNEL_SECRET"),
        line_channel_access_token=_env("LINE_CHANNEL_ACCESS_TOKEN"),
        line_api_base_url=_env("LINE_API_BASE_URL"),
        telegram_bot_token=_env("TELEGRAM_BOT_TOKEN"),
        telegram_webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET"),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL"),
        host=_env("HOST", "127.0.0.1") or "127.0.0.1",
        port=_env_int("PORT", 8080),
        demo_today=_env_date("DEMO_TODAY"),
        media_dir=Path(_env("MEDIA_DIR") or DEFAULT_VAR_DIR / "media"),
        media_retention_days=_env_int("MEDIA_RETENTION_DAYS", 90),
        media_url_secret=_env("MEDIA_URL_SECRET"),
        public_base_url=_env("PUBLIC_BASE_URL"),
        media_url_ttl_seconds=_env_int("MEDIA_URL_TTL_SECONDS", 600),
        ocr_prefill=_env_bool("OCR_PREFILL", True),
        scheduler=_env_bool("SCHEDULER", True),
    )
