"""Notices: what happened (a kind and JSON values), queued per chat account through the outbox, and delivered.

A domain service builds :class:`Notice` values and hands them, addressed with :class:`NoticeTo`, to the
:class:`Notifier` it was given; the notifier renders each notice once per language with the renderer
injected at start-up and writes the rows with :func:`enqueue_many`. The :class:`DeliveryWorker` sends
them (holding back what :class:`QuietHours` covers); :func:`delivery_report` says where the rows
of a batch stand.

Other packages import only what this module exports.
"""

from bot.services.notices.delivery import (
    ChannelSender,
    DeliveryError,
    DeliveryWorker,
    Recipient,
    RecipientUnreachable,
)
from bot.services.notices.missed import MissedNotices, load_refollow_policy, resend_missed
from bot.services.notices.notice import MissingRenderer, Notice, NoticeTo, Renderer, require_renderers
from bot.services.notices.notifier import Notifier
from bot.services.notices.outbox import (
    DeliveryReport,
    OutboxRow,
    StatusCounts,
    delivery_report,
    enqueue,
    enqueue_many,
)
from bot.services.notices.quiet import QuietHours

__all__ = [
    "ChannelSender", "DeliveryError", "DeliveryReport", "DeliveryWorker", "MissedNotices", "MissingRenderer",
    "Notice", "NoticeTo", "Notifier", "OutboxRow", "QuietHours", "Recipient", "RecipientUnreachable", "Renderer",
    "StatusCounts",
    "delivery_report", "enqueue", "enqueue_many", "load_refollow_policy", "require_renderers", "resend_missed",
]
