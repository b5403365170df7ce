"""Import every model module so the metadata knows every table (for migrations and tests)."""

from bot.db import models, models_accounts, models_classes, models_hours  # noqa: F401
