"""A fake Telegram Bot API on 127.0.0.1 for the tests and the benchmark.

It answers what the bot calls (getMe, sendMessage, editMessageText, answerCallbackQuery, getFile and the
file download, leaveChat, setWebhook, deleteWebhook, setMyCommands, getUpdates) at
``/bot<token>/<method>`` and ``/file/bot<token>/<path>``, reading parameters the way python-telegram-bot
sends them (form-encoded, each value JSON; or a JSON body), and answers ``{"ok": true, "result": …}``.
Every call is recorded. It can be told to answer the next calls of a method with a failure: a status
(429 with ``retry_after``, 500 …), ``blocked`` (403 "bot was blocked by the user"), ``chat_not_found``
(400), or ``drop`` (accepts the message, then closes the connection without an answer, as a lost answer
would look).

Run alone (for the benchmark): ``python -m tests.telegram.fake_telegram --port 0`` prints ``PORT <n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-TOKEN"
BOT_ID = 123456


@dataclass
class Call:
    """One Bot API call the fake received."""

    method: str
    params: dict[str, Any]
    status: int
    message_id: int | None = None
    """The id of the message a sendMessage made (or an edit changed)."""

    @property
    def text(self) -> str:
        """The ``text`` parameter ('' when none)."""
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """The inline keyboard as (label, callback data) pairs, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class FakeTelegram:
    """The fake server: ``await start()``, use :attr:`url` as ``TELEGRAM_API_BASE_URL``, ``await stop()``."""

    token: str = TOKEN
    record: bool = True
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    sent_count: int = 0
    _failures: dict[str, list[Any]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(500))
    _new_updates: asyncio.Event | None = None
    _runner: web.AppRunner | None = None
    on_send: Any = None
    """Called with the chat id of each accepted sendMessage (the benchmark waits on it)."""

    def fail(self, method: str, *failures: Any) -> None:
        """Answer the next calls of ``method`` with these failures, in order (see the module docstring)."""
        self._failures.setdefault(method, []).extend(failures)

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        """The accepted calls of ``method`` (to ``chat_id`` when given)."""
        return [c for c in self.calls if c.method == method and c.status == 200
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """The texts of accepted messages and edits, in order."""
        return [c.text for c in self.calls if c.method in ("sendMessage", "editMessageText") and c.status == 200
                and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    def clear(self) -> None:
        """Forget the recorded calls."""
        self.calls.clear()

    def push_update(self, update: dict[str, Any]) -> None:
        """Make ``update`` available to getUpdates."""
        self.updates.append(update)
        if self._new_updates is not None:
            self._new_updates.set()

    # ------------------------------------------------------------------ server

    async def start(self, port: int = 0) -> FakeTelegram:
        """Listen on 127.0.0.1 (any free port by default)."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._new_updates = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        out: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                continue
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        return out

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await self._params(request)
        queued = self._failures.get(method)
        failure = queued.pop(0) if queued else None
        if failure == "drop":
            self._note(method, params, 200)
            await self._result(method, params)  # it was taken …
            assert request.transport is not None
            request.transport.close()  # … but the answer never arrives
            raise asyncio.CancelledError
        if failure is not None:
            status, body = _failure_body(failure)
            self._note(method, params, status)
            return web.json_response(body, status=status)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        self._note(method, params, 200)
        result = await self._result(method, params)
        if isinstance(result, dict) and "message_id" in result and self.record:
            self.calls[-1].message_id = result["message_id"]
        return web.json_response({"ok": True, "result": result})

    def _note(self, method: str, params: dict[str, Any], status: int) -> None:
        if self.record:
            self.calls.append(Call(method, params, status))

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "ABC 學習小幫手", "username": "abc_learning_bot",
                    "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method in ("sendMessage", "editMessageText", "sendPhoto"):
            if method in ("sendMessage", "sendPhoto"):
                self.sent_count += 1
                if self.on_send is not None:
                    self.on_send(int(params.get("chat_id", 0)))
            message_id = int(params.get("message_id") or next(self._ids))
            return {"message_id": message_id, "date": int(time.time()), "text": params.get("text", ""),
                    "chat": {"id": int(params.get("chat_id", 0)), "type": "private"}}
        if method == "getFile":
            file_id = str(params.get("file_id"))
            data = self.files.get(file_id)
            if data is None:
                raise web.HTTPBadRequest(text=json.dumps({"ok": False, "error_code": 400,
                                                          "description": "Bad Request: invalid file_id"}),
                                         content_type="application/json")
            return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data),
                    "file_path": f"photos/{file_id}.jpg"}
        return True  # answerCallbackQuery, leaveChat, setWebhook, deleteWebhook, setMyCommands …

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and self._new_updates is not None:
            self._new_updates.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_updates.wait(), min(float(params.get("timeout") or 0), 1.0))
        return list(self.updates)

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["path"].removeprefix("photos/").removesuffix(".jpg")
        data = self.files.get(name)
        if data is None:
            return web.Response(status=404)
        self._note("download", {"file_id": name}, 200)
        return web.Response(body=data, content_type="image/jpeg")


def _failure_body(failure: Any) -> tuple[int, dict[str, Any]]:
    if failure == "blocked":
        return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    if failure == "chat_not_found":
        return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    if isinstance(failure, tuple) and failure[0] == 429:
        return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {failure[1]}",
                     "parameters": {"retry_after": failure[1]}}
    status = int(failure)
    return status, {"ok": False, "error_code": status, "description": "Internal Server Error"}


async def _main(port: int) -> None:
    fake = await FakeTelegram(record=False).start(port)
    print(f"PORT {fake.url.rsplit(':', 1)[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(_main(parser.parse_args().port))
