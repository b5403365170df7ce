"""Alembic environment: runs on the connection handed over by :mod:`bot.db.migrate`."""

from alembic import context

import bot.db.models  # noqa: F401  (registers every table on the metadata)
from bot.db.base import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `abc-bot db upgrade` (bot.db.migrate)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
