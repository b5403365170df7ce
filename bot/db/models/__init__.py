"""The tables, one module per bounded context; importing this package registers every table.

The models live together here rather than inside each service package: the migrations see one
metadata, and the core tables (employees, channel accounts, the outbox) are shared by every context.
"""

from bot.db.models import accounts, broadcasts, certificates, classes, core, hours, imports, reminders  # noqa: F401  (registers every table on the metadata)
from bot.db.models.core import CatalogRow, ChannelAccount, Employee, OutboxMessage, ProcessedEvent

__all__ = ["CatalogRow", "ChannelAccount", "Employee", "OutboxMessage", "ProcessedEvent"]
