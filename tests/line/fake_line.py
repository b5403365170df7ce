"""A fake LINE Messaging API on 127.0.0.1 for tests and the benchmark.

It answers what the bot calls (reply, push, multicast, loading animation, message content, rich menu,
the monthly quota and its consumption, per-unit statistics),
records every request, keeps LINE's rules that matter to the bot (a reply token works once; a push whose
``X-Line-Retry-Key`` was accepted before gets 409), and can be told to fail the next calls of an
endpoint with given statuses (429/500 …), optionally *after* accepting them, as a timeout would look.

Run alone (for the benchmark): ``python -m tests.line.fake_line --port 0`` prints ``PORT <n>`` and serves
until killed; ``GET /__fake/replies`` returns ``{reply_token: monotonic arrival time}``, ``/__fake/multicast``
what multicast calls delivered, ``/__fake/push`` how many push calls came, were accepted (to how many distinct
users) and were answered 409, ``/__fake/fail_rate/0.2`` makes a fifth of push and multicast calls fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class Recorded:
    """One request the fake received, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)

    @property
    def retry_key(self) -> str | None:
        """The X-Line-Retry-Key header, if any."""
        return self.headers.get("X-Line-Retry-Key")


@dataclass
class _Failure:
    statuses: list[int]
    accept_first: bool


@dataclass
class FakeLine:
    """The fake server; ``await start()``, use :attr:`url` as ``LINE_API_BASE_URL``, ``await stop()``."""

    record: bool = True
    requests: list[Recorded] = field(default_factory=list)
    content: dict[str, bytes | tuple[bytes, str]] = field(default_factory=dict)
    """Message content by message id: bytes (served as image/jpeg) or (bytes, content type)."""
    reply_arrivals: dict[str, float] = field(default_factory=dict)
    url: str = ""
    _used_tokens: set[str] = field(default_factory=set)
    _retry_keys: dict[str, str] = field(default_factory=dict)
    _failures: dict[str, _Failure] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    _default_menu: str | None = None
    _changed: asyncio.Condition | None = None
    _runner: web.AppRunner | None = None
    quota_limit: int | None = 3000
    """The monthly quota ``GET /v2/bot/message/quota`` reports (None: ``none``, unlimited)."""
    quota_used: int = 0
    """Messages used this month; each accepted push or multicast adds its recipients × messages."""
    unit_stats: dict[str, dict[str, int]] = field(default_factory=dict)
    push_accepted: list[str] = field(default_factory=list)
    """The ``to`` of every push with a retry key LINE accepted (answered or not)."""
    multicast_calls: list[float] = field(default_factory=list)
    """When each multicast call arrived (answered or failed)."""
    push_calls: int = 0
    """Push calls received (answered or failed)."""
    push_conflicts: int = 0
    """Push calls answered 409 (their retry key was accepted before)."""
    fail_rate: float = 0.0
    """Share of push and multicast calls answered 429 or 500 at random (half of them accepted all the same)."""
    multicast_accepted: list[list[str]] = field(default_factory=list)
    """The ``to`` of every multicast LINE accepted (answered or not): what users actually received."""
    """Per custom aggregation unit: ``{"opens": n, "clicks": n}`` for the statistics endpoint."""
    on_reply: Callable[[str], None] | None = None
    """Called with each accepted reply token (the benchmark's closed-loop clients wait on it)."""

    # ------------------------------------------------------------------ control

    def fail(self, endpoint: str, *statuses: int, accept_first: bool = False) -> None:
        """Answer the next calls of ``endpoint`` (``reply``, ``push``, ``content`` …) with ``statuses``.

        With ``accept_first`` a failing push is still accepted (its retry key remembered), as when
        LINE sent the message but the answer was lost.
        """
        self._failures[endpoint] = _Failure(list(statuses), accept_first)

    def sent(self, endpoint: str = "") -> list[Recorded]:
        """Requests answered 2xx, optionally only one endpoint (``reply``, ``push`` …)."""
        return [r for r in self.requests if 200 <= r.status < 300 and (not endpoint or _endpoint(r.path) == endpoint)]

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """Every message delivered to a user by push (replies carry no user id: see :meth:`sent`)."""
        return [m for r in self.sent("push") if r.json["to"] == user_id for m in r.json["messages"]]

    async def wait_for(self, count: int, endpoint: str = "", within: float = 10.0) -> list[Recorded]:
        """Wait until at least ``count`` successful calls (of ``endpoint``) arrived."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.sent(endpoint)) >= count), within)
        return self.sent(endpoint)

    # ------------------------------------------------------------------ server

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeLine:
        """Listen (port 0 = any free port) and set :attr:`url`."""
        self._changed = asyncio.Condition()
        application = web.Application(client_max_size=20 * 1024 * 1024)
        application.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        host_, port_ = self._runner.addresses[0][:2]
        self.url = f"http://{host_}:{port_}"
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        path = request.path
        if path.startswith("/__fake/"):
            return self._control(path)
        endpoint = _endpoint(path)
        if endpoint == "multicast":
            self.multicast_calls.append(time.monotonic())
        elif endpoint == "push":
            self.push_calls += 1
        headers = CIMultiDict(request.headers)
        headers["X-Fake-Url"] = str(request.rel_url)
        status, answer = self._answer(request.method, path, endpoint, body, headers)
        if self.record:
            self.requests.append(Recorded(request.method, path, dict(request.headers), body, status))
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()
        if isinstance(answer, web.StreamResponse):
            return answer
        headers = {"x-line-request-id": f"req-{next(self._ids)}"}
        if status == 409:
            headers["x-line-accepted-request-id"] = "req-accepted"
        return web.json_response(answer, status=status, headers=headers)

    def _control(self, path: str) -> web.Response:
        if path == "/__fake/replies":
            return web.json_response(self.reply_arrivals)
        if path == "/__fake/multicast":
            ids = [u for to in self.multicast_accepted for u in to]
            return web.json_response({"accepted_calls": len(self.multicast_accepted), "recipients": len(ids),
                                      "unique": len(set(ids)),
                                      "calls": sum(1 for _ in self.multicast_calls)})
        if path == "/__fake/push":
            return web.json_response({"calls": self.push_calls, "accepted": len(self.push_accepted),
                                      "unique": len(set(self.push_accepted)), "conflicts": self.push_conflicts})
        if path.startswith("/__fake/fail_rate/"):
            self.fail_rate = float(path.rsplit("/", 1)[1])
            return web.json_response({})
        if path == "/__fake/reset":
            self.multicast_accepted.clear()
            self.multicast_calls.clear()
            self.push_accepted.clear()
            self.push_calls = self.push_conflicts = 0
            self.reply_arrivals.clear()
            self._used_tokens.clear()
            self.requests.clear()
            return web.json_response({})
        return web.json_response({"message": "unknown control"}, status=404)

    def _random_failure(self, endpoint: str, body: bytes, headers: Any) -> tuple[int, Any] | None:
        if not self.fail_rate or endpoint not in ("push", "multicast") or random.random() >= self.fail_rate:
            return None
        key = headers.get("X-Line-Retry-Key")
        if key and key not in self._retry_keys and random.random() < 0.5:  # sent, but the answer is lost
            self._retry_keys[key] = "accepted"
            if endpoint == "multicast":
                self.multicast_accepted.append(json.loads(body)["to"])
            else:
                self.push_accepted.append(json.loads(body)["to"])
        status = random.choice((429, 500))
        return status, {"message": f"injected {status}"}

    def _answer(self, method: str, path: str, endpoint: str, body: bytes,
                headers: Any) -> tuple[int, Any]:
        randomly = self._random_failure(endpoint, body, headers)
        if randomly is not None:
            return randomly
        failure = self._failures.get(endpoint)
        if failure is not None and failure.statuses:
            status = failure.statuses.pop(0)
            if failure.accept_first and endpoint in ("push", "multicast") and headers.get("X-Line-Retry-Key"):
                if endpoint == "multicast" and headers["X-Line-Retry-Key"] not in self._retry_keys:
                    self.multicast_accepted.append(json.loads(body)["to"])
                self._retry_keys[headers["X-Line-Retry-Key"]] = "accepted"
            return status, {"message": f"injected {status}"}
        if endpoint == "reply":
            token = json.loads(body)["replyToken"]
            if token in self._used_tokens:
                return 400, {"message": "Invalid reply token"}
            self._used_tokens.add(token)
            if self.on_reply is not None:
                self.on_reply(token)
            else:
                self.reply_arrivals[token] = time.monotonic()
            return 200, self._sent(json.loads(body))
        if endpoint in ("push", "multicast"):
            request = json.loads(body)
            units = request.get("customAggregationUnits") or []  # LINE refuses anything else with a 400
            if len(units) > 1 or any(not re.fullmatch(r"[a-zA-Z0-9_]{1,30}", str(u)) for u in units):
                return 400, {"message": "The request body has 1 error(s)",
                             "details": [{"message": "Invalid custom aggregation unit",
                                          "property": "customAggregationUnits"}]}
            key = headers.get("X-Line-Retry-Key")
            if key is not None and key in self._retry_keys:
                self.push_conflicts += endpoint == "push"
                return 409, {"message": "The retry key is already accepted", "sentMessages": []}
            if key is not None:
                self._retry_keys[key] = "accepted"
            request = json.loads(body)
            recipients = len(request["to"]) if endpoint == "multicast" else 1
            if endpoint == "multicast":
                self.multicast_accepted.append(request["to"])
            elif key is not None:
                self.push_accepted.append(request["to"])
            self.quota_used += recipients * len(request.get("messages", []))
            return 200, (self._sent(request) if endpoint == "push" else {})
        if endpoint == "loading":
            return 202, {}
        if endpoint == "quota":
            if self.quota_limit is None:
                return 200, {"type": "none"}
            return 200, {"type": "limited", "value": self.quota_limit}
        if endpoint == "consumption":
            return 200, {"totalUsage": self.quota_used}
        if endpoint == "unit_stats":
            unit = parse_qs(urlsplit(str(headers.get("X-Fake-Url", ""))).query).get("customAggregationUnit", [""])[0]
            stats = self.unit_stats.get(unit, {})
            return 200, {"overview": {"uniqueImpression": stats.get("opens"), "uniqueClick": stats.get("clicks")},
                         "messages": [{"seq": 1, "uniqueImpression": stats.get("opens", 0)}],
                         "clicks": [{"seq": 1, "url": "https://example.org", "uniqueClick": stats.get("clicks", 0)}]}
        if endpoint == "content":
            message_id = path.split("/")[-2]
            data = self.content.get(message_id)
            if data is None:
                return 404, {"message": "Not found"}
            body_bytes, content_type = data if isinstance(data, tuple) else (data, "image/jpeg")
            return 200, web.Response(body=body_bytes, content_type=content_type)
        return self._rich_menu(method, path, endpoint, body, headers)

    def _rich_menu(self, method: str, path: str, endpoint: str, body: bytes, headers: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if endpoint == "richmenu" and method == "POST" and path == "/v2/bot/richmenu":
            menu_id = f"richmenu-{next(self._ids)}"
            self._rich_menus[menu_id] = {"richMenuId": menu_id, **json.loads(body), "image": None}
            return 200, {"richMenuId": menu_id}
        if endpoint == "richmenu" and path == "/v2/bot/richmenu/list":
            return 200, {"richmenus": [{k: v for k, v in m.items() if k != "image"} for m in self._rich_menus.values()]}
        if endpoint == "richmenu" and method == "POST" and parts[-1] == "content":
            menu_id = parts[-2]
            if menu_id not in self._rich_menus:
                return 404, {"message": "Not found"}
            if headers.get("Content-Type") not in ("image/png", "image/jpeg"):
                return 415, {"message": "Unsupported Media Type"}
            self._rich_menus[menu_id]["image"] = body
            return 200, {}
        if endpoint == "richmenu" and method == "DELETE":
            self._rich_menus.pop(parts[-1], None)
            return 200, {}
        if endpoint == "default_richmenu":
            if method == "POST":
                if parts[-1] not in self._rich_menus or self._rich_menus[parts[-1]]["image"] is None:
                    return 400, {"message": "must upload richmenu image before applying it to user"}
                self._default_menu = parts[-1]
                return 200, {}
            if method == "GET":
                if self._default_menu is None:
                    return 404, {"message": "no default richmenu"}
                return 200, {"richMenuId": self._default_menu}
        return 404, {"message": "Not found"}

    def _sent(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"sentMessages": [{"id": str(next(self._ids)), "quoteToken": f"q{next(self._ids)}"}
                                 for _ in request.get("messages", [])]}

    @property
    def rich_menus(self) -> dict[str, dict[str, Any]]:
        """Rich menus created so far, with their uploaded image bytes under ``image``."""
        return self._rich_menus

    @property
    def default_rich_menu(self) -> str | None:
        """The id set as default."""
        return self._default_menu


def _endpoint(path: str) -> str:
    if path == "/v2/bot/message/reply":
        return "reply"
    if path == "/v2/bot/message/push":
        return "push"
    if path == "/v2/bot/message/multicast":
        return "multicast"
    if path == "/v2/bot/message/quota":
        return "quota"
    if path == "/v2/bot/message/quota/consumption":
        return "consumption"
    if path == "/v2/bot/insight/message/event/aggregation":
        return "unit_stats"
    if path == "/v2/bot/chat/loading/start":
        return "loading"
    if path.startswith("/v2/bot/message/") and path.endswith("/content"):
        return "content"
    if path.startswith("/v2/bot/user/all/richmenu"):
        return "default_richmenu"
    if path.startswith("/v2/bot/richmenu"):
        return "richmenu"
    return "other"


async def _main(port: int) -> None:
    fake = await FakeLine(record=False).start(port=port)
    print("PORT", fake.url.rsplit(":", 1)[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="fake LINE API (benchmark)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args.port))
