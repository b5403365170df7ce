"""Telegram updates as the Bot API posts them (the fields python-telegram-bot reads), for tests and the bench."""

from __future__ import annotations

import itertools
import time
from typing import Any

SECRET = "test-webhook-secret_0123"
_ids = itertools.count(10_000)
_messages = itertools.count(1)


def next_id() -> int:
    """A fresh update_id."""
    return next(_ids)


def user(uid: int, lang: str | None = "zh-hant") -> dict[str, Any]:
    """A Telegram user."""
    out: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": f"User{uid}"}
    if lang is not None:
        out["language_code"] = lang
    return out


def private_chat(uid: int) -> dict[str, Any]:
    """The one-to-one chat with a user (its id is the user's)."""
    return {"id": uid, "type": "private", "first_name": f"User{uid}"}


def message(uid: int, *, update_id: int | None = None, lang: str | None = "zh-hant", chat: dict[str, Any] | None = None,
            **content: Any) -> dict[str, Any]:
    """A message update with the given content (text=…, photo=…, document=…, sticker=…)."""
    return {"update_id": update_id or next_id(),
            "message": {"message_id": next(_messages), "date": int(time.time()), "from": user(uid, lang),
                        "chat": chat or private_chat(uid), **content}}


def text(uid: int, body: str, **kw: Any) -> dict[str, Any]:
    """A text message."""
    return message(uid, text=body, **kw)


def callback(uid: int, data: str, *, message_id: int = 77, update_id: int | None = None,
             lang: str | None = "zh-hant") -> dict[str, Any]:
    """A press of an inline button under the bot's message ``message_id``."""
    return {"update_id": update_id or next_id(),
            "callback_query": {"id": f"cq{next(_messages)}", "from": user(uid, lang), "chat_instance": "ci",
                               "data": data,
                               "message": {"message_id": message_id, "date": int(time.time()),
                                           "chat": private_chat(uid), "text": "…",
                                           "from": {"id": 123456, "is_bot": True, "first_name": "ABC"}}}}


def photo(uid: int, file_ids: list[tuple[str, int, int]], **kw: Any) -> dict[str, Any]:
    """A photo in several sizes: (file_id, side in pixels, size in bytes)."""
    sizes = [{"file_id": f, "file_unique_id": f"u{f}", "width": side, "height": side, "file_size": size}
             for f, side, size in file_ids]
    return message(uid, photo=sizes, **kw)


def document(uid: int, file_id: str, mime: str, size: int, **kw: Any) -> dict[str, Any]:
    """A file sent as a document."""
    return message(uid, document={"file_id": file_id, "file_unique_id": f"u{file_id}", "mime_type": mime,
                                  "file_size": size, "file_name": "certificate"}, **kw)


def member_status(uid: int, status: str, *, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    """my_chat_member: the bot's status in a chat changed (``kicked`` = blocked in a private chat)."""
    bot = {"id": 123456, "is_bot": True, "first_name": "ABC"}
    old = "member" if status == "kicked" else "left"
    return {"update_id": next_id(),
            "my_chat_member": {"chat": chat or private_chat(uid), "from": user(uid), "date": int(time.time()),
                               "old_chat_member": {"user": bot, "status": old},
                               "new_chat_member": ({"user": bot, "status": status, "until_date": 0}
                                                   if status == "kicked" else {"user": bot, "status": status})}}


def group_chat(gid: int = -100200) -> dict[str, Any]:
    """A group."""
    return {"id": gid, "type": "supergroup", "title": "同事群組"}
