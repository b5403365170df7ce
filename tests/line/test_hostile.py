"""Hostile input at the door, through real HTTP and the real SDK on both databases (issue 15, part 8).

Correctly signed bodies with ids LINE never sends (lone surrogates, NUL, over-long, a path in an image id),
bodies that cannot be read, malformed HTTP, slow clients and a failing database: never a 5xx, never a
traceback or raw input in the log, and the well-formed event beside a bad one is answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.bootstrap import Runtime
from bot.conversation import IncomingMessage
from bot.logsafe import failure, log_failure
from tests.line import webhooks as wh
from tests.line.conftest import Harness, make_harness
from tests.line.fake_line import FakeLine

pytestmark = pytest.mark.db


def raw_body(*events: dict[str, Any]) -> bytes:
    """A body with JSON escapes for what UTF-8 cannot carry (a lone surrogate), as a hostile sender writes it."""
    return json.dumps({"destination": wh.DESTINATION, "events": list(events)}).encode()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if (r.exc_info or r.levelno >= logging.ERROR) and not _teardown(r)]
    assert not bad, [r.getMessage()[:200] for r in bad]
    for r in caplog.records:
        if _teardown(r):  # asyncio's own record of that connection spans lines; it is not ours either
            continue
        assert "\n" not in r.getMessage() and len(r.getMessage()) < 600, r.getMessage()[:200]


def _teardown(record: logging.LogRecord) -> bool:
    """The asyncpg connection of the previous test's dropped database, collected now (not this server's doing)."""
    return record.name == "asyncio" and "unexpected connection_lost() call" in record.getMessage()


@pytest.mark.parametrize("field", ["event_id", "user_nul", "user_long", "user_surrogate", "image_path"])
async def test_a_bad_id_is_dropped_alone(line: Harness, caplog: pytest.LogCaptureFixture, field: str) -> None:
    good = wh.text(wh.user_id("good"), "說明")
    bad = wh.text(wh.user_id("bad"), "說明")
    if field == "event_id":
        bad["webhookEventId"] = "\ud800"
    elif field == "user_nul":
        bad["source"]["userId"] = wh.user_id("bad")[:10] + "\x00" + wh.user_id("bad")[11:]
    elif field == "user_long":
        bad["source"]["userId"] = "U" + "a" * 200
    elif field == "user_surrogate":
        bad["source"]["userId"] = "U\udc80" + "0" * 31
    else:
        bad = wh.image(wh.user_id("bad"), "../../richmenu/list?x=")
    with caplog.at_level(logging.INFO):
        assert await line.post(raw=raw_body(bad, good)) == 200
    [reply] = line.fake.sent("reply")
    assert reply.json["replyToken"] == good["replyToken"]
    assert not [r for r in line.fake.requests if "richmenu" in r.path or r.path.endswith("/content")]
    assert line.metrics.events_handled.value("message", "malformed") == 1
    no_tracebacks(caplog)


async def test_surrogates_and_controls_in_texts_get_an_answer(line: Harness,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    events = [wh.text(wh.user_id(1), "說明\ud800\x00\x1b[31m"), wh.postback(wh.user_id(2), "\udfff\x00x" * 200),
              wh.text(wh.user_id(3), "x" * 100_000)]
    with caplog.at_level(logging.INFO):
        assert await line.post(raw=raw_body(*events)) == 200
    assert sorted(r.json["replyToken"] for r in line.fake.sent("reply")) == sorted(e["replyToken"] for e in events)
    for r in line.fake.sent("reply"):
        assert "\\u0000" not in json.dumps(r.json) and "\\ud800" not in json.dumps(r.json)
    no_tracebacks(caplog)


async def test_the_sdk_never_logs_a_raw_event_type(line: Harness, caplog: pytest.LogCaptureFixture) -> None:
    forged = wh.text(wh.user_id(4), "說明")
    forged["type"] = "x\r\nERROR forged line " + "A" * 100_000
    with caplog.at_level(logging.DEBUG):
        assert await line.post(forged, wh.text(wh.user_id(5), "說明")) == 200
    assert len(line.fake.sent("reply")) == 1
    sdk = [r for r in caplog.records if r.name.startswith("linebot")]
    assert sdk and all(len(r.getMessage()) < 400 and "\n" not in r.getMessage() for r in sdk)
    no_tracebacks(caplog)


async def raw_http(line: Harness, request: bytes, *, close: bool = False, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", line.server.port)
    writer.write(request)
    await writer.drain()
    if close:
        writer.close()
        return b""
    data = await asyncio.wait_for(reader.read(4096), 10) if read else b""  # the answer's head
    writer.close()
    return data


def post_head(body: bytes, *extra: str, length: int | None = None) -> bytes:
    headers = ["POST /webhooks/line HTTP/1.1", "Host: x", "Content-Type: application/json",
               f"X-Line-Signature: {wh.sign(body)}", f"Content-Length: {len(body) if length is None else length}",
               "Connection: close", *extra]
    return ("\r\n".join(headers) + "\r\n\r\n").encode()


async def test_unreadable_bodies_and_malformed_http(line: Harness, caplog: pytest.LogCaptureFixture) -> None:
    junk = b"\x01\x02 not deflate at all \xff" * 10
    with caplog.at_level(logging.DEBUG):
        answer = await raw_http(line, post_head(junk, "Content-Encoding: deflate") + junk)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
        body = wh.body(wh.text(wh.user_id(6), "說明"))
        await raw_http(line, post_head(body, length=len(body) + 50) + body[:20], close=True)  # reset mid-body
        bad = await raw_http(line, b"POST /webhooks/line HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n")
        assert bad.startswith(b"HTTP/1.") and b" 400 " in bad[:20]
        huge = await raw_http(line, b"POST /webhooks/line HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70_000 + b"\r\n\r\n")
        assert huge.startswith(b"HTTP/1.") and b" 4" in huge[:20]
        assert await line.post(wh.text(wh.user_id(7), "說明")) == 200  # the server still answers
    assert len(line.fake.sent("reply")) == 1
    http = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert http and all(r.levelno == logging.WARNING and "Broken" not in r.getMessage() for r in http)
    no_tracebacks(caplog)


@pytest.fixture
async def slow(app: Runtime, fake: FakeLine) -> AsyncIterator[Harness]:
    """A server whose clients get 0.3 s for a body and for a request's headers."""
    harness = await make_harness(app, fake, body_timeout=0.3)
    await harness.server.stop()
    from bot.web import WebServer

    harness.server = WebServer(app, harness.metrics, channels=[harness.line], grace=5, header_timeout=0.3)
    harness.line.closing = False
    await harness.server.start("127.0.0.1", 0)
    yield harness
    await harness.http.close()
    await harness.server.stop()


async def test_slow_clients_are_cut_off(slow: Harness) -> None:
    body = wh.body(wh.text(wh.user_id(8), "說明"))
    late = await raw_http(slow, post_head(body) + body[:10])  # the rest never comes
    assert late.startswith(b"HTTP/1.1 408"), late[:80]
    reader, writer = await asyncio.open_connection("127.0.0.1", slow.server.port)
    writer.write(b"POST /webhooks/line HTTP/1.1\r\nHost: x\r\n")  # headers that never end
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
    writer.close()


async def test_thousands_of_mutated_bodies(line: Harness, caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(15)
    nasty: list[object] = ["\ud800", "\x00", "A" * 300, "", None, 0, -1, 1e308, [], {}, True, "../x", "\r\n"]
    keys = ["webhookEventId", "type", "replyToken", "mode", "timestamp", "source", "message", "postback",
            "deliveryContext"]
    statuses = []
    with caplog.at_level(logging.INFO):
        for n in range(300):
            event = rng.choice([wh.text(wh.user_id(n % 7), "說明"), wh.postback(wh.user_id(n % 5), "x"),
                                wh.image(wh.user_id(n % 3), str(n)), wh.follow(wh.user_id(n % 4))])
            for _ in range(rng.randint(1, 3)):
                key = rng.choice(keys)
                target = event
                if key in ("source", "message", "postback") and isinstance(event.get(key), dict) and rng.random() < .7:
                    target, key = event[key], rng.choice(list(event[key]) or ["x"])
                target[key] = rng.choice(nasty)
            statuses.append(await line.post(raw=raw_body(event), wait=False))
        good = wh.text(wh.user_id("beside"), "說明")
        statuses.append(await line.post(raw=raw_body(wh.text(wh.user_id(9), "\ud800", eid="\udfff"), good)))
    assert all(s < 500 for s in statuses)
    assert good["replyToken"] in [r.json.get("replyToken") for r in line.fake.sent("reply")]
    no_tracebacks(caplog)


async def test_a_failing_database_logs_no_values(app: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    assert app.engine.sync_engine.hide_parameters
    secret = "TY7781205"
    with pytest.raises(SQLAlchemyError) as info:
        async with app.engine.connect() as conn:
            await conn.execute(text("SELECT CAST(:v AS INTEGER) FROM no_such_table_here"), {"v": secret})
    assert secret not in str(info.value)  # SQLAlchemy's [parameters: …] is hidden
    with caplog.at_level(logging.INFO):
        log_failure(logging.getLogger("t"), "handler failed", info.value)
    assert secret not in caplog.text and "no_such_table" not in failure(info.value)

    async def boom(_msg: IncomingMessage, _event_id: str | None) -> None:
        raise ValueError(f"invalid input for query argument $1: {secret!r}")

    app.dispatcher._handle = boom  # type: ignore[method-assign, assignment]
    with caplog.at_level(logging.INFO):
        outcome = await app.dispatcher.handle(IncomingMessage.from_text("line", wh.user_id(1), "說明"))
    assert outcome.replies and secret not in caplog.text and "ValueError" in caplog.text
