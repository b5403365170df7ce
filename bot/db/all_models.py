"""Import every model module so the metadata knows every table (for migrations and tests)."""

from bot.db import models  # noqa: F401
