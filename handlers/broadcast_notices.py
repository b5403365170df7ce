"""How an HR announcement reads: its text in the recipient's language (English when HR wrote one), and its link.

An announcement HR marked optional carries a button to turn optional announcements off.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation import Reply
from bot.services.broadcasts import KIND
from bot.services.notices import Notice
from handlers.notice_reader import NoticeReader, RenderFunction
from handlers.optout import OptOut


def announcement(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """The announcement as one text message: the text, then the link on a line of its own."""
    values = notice.values
    text = values.get("text_en") if reader.lang == "en" and values.get("text_en") else values["text"]
    body = reader.t("broadcasts.notice", text=text)
    if values.get("link"):
        body += "\n" + reader.t("broadcasts.notice_link", url=values["link"])
    if values.get("optional"):  # HR marked it optional: the reader may turn such announcements off
        return [Reply.plain(body, [reader.choice("broadcasts.button.optout", OptOut(off=1))])]
    return [Reply.plain(body)]


RENDERERS: Mapping[str, RenderFunction] = {KIND: announcement}
