"""How an HR announcement reads: its text in the recipient's language, its link button and its picture.

The text is English when HR wrote one and the recipient chose English.

An announcement HR marked optional carries a button to turn optional announcements off.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation import Choice, ImageRef, LinkButton, Reply
from bot.services.broadcasts import KIND
from bot.services.notices import Notice
from handlers.notice_reader import NoticeReader, RenderFunction
from handlers.optout import OptOut


def announcement(notice: Notice, reader: NoticeReader) -> list[Reply]:
    """The announcement as one reply: the text, its link as a button (a URI action on LINE), then its picture."""
    values = notice.values
    text = values.get("text_en") if reader.lang == "en" and values.get("text_en") else values["text"]
    body = reader.t("broadcasts.notice", text=text)
    links: tuple[LinkButton, ...] = ()
    if values.get("link"):
        label = values.get("link_label") or reader.t("broadcasts.link_label")
        links = (LinkButton(str(label), str(values["link"])),)
    image = None
    if values.get("image_url"):
        image = ImageRef(url=str(values["image_url"]),
                         preview_url=str(values.get("image_preview_url") or values["image_url"]))
    choices: tuple[Choice, ...] = ()
    if values.get("optional"):  # HR marked it optional: the reader may turn such announcements off
        choices = (reader.choice("broadcasts.button.optout", OptOut(off=1)),)
    return [Reply("text", body, choices, image=image, links=links)]


RENDERERS: Mapping[str, RenderFunction] = {KIND: announcement}
