"""HR announcements: an audience (SPEC), the content, a preview with the LINE cost, sending once, the report.

Other packages import only what this module exports.
"""

from bot.services.broadcasts.audience import Audience, AudienceError, Member, parse_audience, read_employee_numbers
from bot.services.broadcasts.compose import KIND, NOTICE_KINDS, PLACEHOLDERS, ComposeError, Content
from bot.services.broadcasts.media import (
    PATH_PREFIX,
    ImageSigner,
    ImageStore,
    PreparedImage,
    prepare_image,
    publish_image,
)
from bot.services.broadcasts.multicast import ChunkDeliverer, MulticastSender
from bot.services.broadcasts.optout import set_opt_out
from bot.services.broadcasts.plan import Insights, Plan, Quota, Refused, make_plan
from bot.services.broadcasts.report import Report, build_report
from bot.services.broadcasts.sending import (
    MULTICAST_SIZE,
    Sent,
    audit_refusal,
    batch_of,
    cancel,
    get_broadcast,
    list_broadcasts,
    send,
    when,
)

__all__ = [
    "KIND",
    "MULTICAST_SIZE",
    "NOTICE_KINDS",
    "PATH_PREFIX",
    "PLACEHOLDERS",
    "Audience",
    "AudienceError",
    "ChunkDeliverer",
    "ComposeError",
    "Content",
    "ImageSigner",
    "ImageStore",
    "Insights",
    "Member",
    "MulticastSender",
    "Plan",
    "PreparedImage",
    "Quota",
    "Refused",
    "Report",
    "Sent",
    "audit_refusal",
    "batch_of",
    "build_report",
    "cancel",
    "get_broadcast",
    "list_broadcasts",
    "make_plan",
    "parse_audience",
    "prepare_image",
    "publish_image",
    "read_employee_numbers",
    "send",
    "set_opt_out",
    "when",
]
