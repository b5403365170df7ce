"""How the certificate feature's notices read: HR's decision, the closing claim window, HR's digest.

Registered in :data:`handlers.notices.RENDERERS`; written in the recipient's language through the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from bot.conversation import Reply
from bot.dates import format_date
from bot.services.certificates import DECIDED, HR_DIGEST, WINDOW_CLOSING
from bot.services.notices import Notice
from handlers.certificate_wizard import QMine, QQueue
from handlers.notice_reader import NoticeReader, RenderFunction


def _date(value: object, lang: str) -> str:
    return format_date(date.fromisoformat(str(value)), lang) if value else "-"


def _result(notice: Notice, lang: str) -> str:
    v = notice.values
    title = v.get("test_title") if lang == "zh-TW" else v.get("test_title_en")
    return " ".join(str(x) for x in (title, v.get("level_label") or v.get("scores")) if x)


def decided(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """Approved (with the reward) or rejected (with the reason)."""
    v = notice.values
    common = {"id": v["claim_id"], "result": _result(notice, reader.lang), "date": _date(v.get("dated"), reader.lang)}
    if v.get("approved"):
        text = reader.t("cert.notice.approved", reward=v.get("reward") or "-", **common)
    else:
        text = reader.t("cert.notice.rejected", reason=v.get("reason") or "-", **common)
    return [Reply.plain(text, [reader.choice("cert.button.mine", QMine())])]


def window_closing(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """A started claim's window closes in N days."""
    v = notice.values
    return [Reply.plain(reader.t("cert.notice.window_closing", days=v["days"], end=_date(v.get("window_end"),
                                                                                         reader.lang)))]


def hr_digest(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """HR's daily count of claims waiting too long."""
    v = notice.values
    return [Reply.plain(reader.t("cert.notice.hr_digest", count=v["count"], days=v["oldest_days"]),
                        [reader.choice("cert.button.queue", QQueue())])]


RENDERERS: Mapping[str, RenderFunction] = {DECIDED: decided, WINDOW_CLOSING: window_closing, HR_DIGEST: hr_digest}
