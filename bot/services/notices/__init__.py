"""Notices: the outbox every pushed message goes through, and the worker that delivers it through the channels.

Other packages import only what this module exports.
"""

from bot.services.notices.delivery import (
    ChannelSender,
    DeliveryError,
    DeliveryWorker,
    Recipient,
    RecipientUnreachable,
)
from bot.services.notices.outbox import enqueue, enqueue_for_employee

__all__ = [
    "ChannelSender", "DeliveryError", "DeliveryWorker", "Recipient", "RecipientUnreachable",
    "enqueue", "enqueue_for_employee",
]
