"""Review findings in the LINE webhook, the sender and the outbox worker: each test fails without its fix."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import cast

from aiohttp import web
from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.clock import FrozenClock
from bot.db.models.core import OutboxMessage, ProcessedEvent
from bot.services.notices import DeliveryWorker
from tests.line import webhooks as wh
from tests.line.conftest import Harness
from tests.line.test_delivery import Recorder, queue


async def processed(line: Harness) -> int:
    async with line.app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(ProcessedEvent))).scalar_one())


# ------------------------------------------------------------------------------------ webhook intake


async def test_a_signature_header_that_is_not_utf8_is_refused_not_a_crash(line: Harness) -> None:
    body = wh.body(wh.text(wh.user_id(40), "課程"))
    reader, writer = await asyncio.open_connection("127.0.0.1", line.server.port)
    writer.write(b"POST /webhooks/line HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nX-Line-Signature: \xff\xfe\xfd\r\nConnection: close\r\n\r\n" % len(body)
                 + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    assert status_line.split()[1] == b"400"
    assert line.metrics.webhooks_rejected.value("signature") == 1
    assert await processed(line) == 0


async def test_json_nested_beyond_the_parser_is_malformed_not_a_crash(line: Harness) -> None:
    assert await line.post(raw=b"[" * 100_000) == 400
    assert await line.post(raw=b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}") == 400
    assert line.metrics.webhooks_rejected.value("malformed") == 2
    assert line.fake.requests == [] and await processed(line) == 0


class _BodyArrivesDuringStop:
    """A request whose body finishes arriving only after the server began to stop."""

    content_length = None

    def __init__(self, line: Harness, body: bytes) -> None:
        self.line, self.body = line, body
        self.headers = {"X-Line-Signature": wh.sign(body)}

    async def read(self) -> bytes:
        self.line.server.closing = True                 # the server began to stop, and so did the channel
        self.line.line.closing = True
        return self.body


async def test_a_webhook_whose_body_arrives_after_the_stop_began_is_503_and_not_queued(line: Harness) -> None:
    body = wh.body(wh.text(wh.user_id(41), "課程"))
    request = cast(web.Request, _BodyArrivesDuringStop(line, body))
    try:
        response = await line.line.webhook(request)
    finally:
        line.server.closing = line.line.closing = False
    assert response.status == 503                       # LINE redelivers it to a server that is running
    assert not line.line.queues.busy
    assert line.metrics.events_received.value("message") == 0


# ------------------------------------------------------------------------------------ sender


async def test_a_reply_taken_by_line_whose_answer_was_lost_is_not_pushed_again(line: Harness) -> None:
    event = wh.text(wh.user_id(42), "課程")
    line.fake.fail("reply", 500)
    line.fake._used_tokens.add(event["replyToken"])     # LINE sent the reply; only its answer was lost
    assert await line.post(event) == 200
    assert [r.status for r in line.fake.requests if r.path.endswith("/reply")] == [500, 400]
    assert line.fake.sent("push") == []                 # the user does not get the answer twice
    assert line.metrics.events_handled.value("message", "ok") == 1


async def test_a_reply_token_refused_on_a_clean_attempt_still_falls_back_to_push(line: Harness) -> None:
    event = wh.text(wh.user_id(43), "課程")
    line.fake._used_tokens.add(event["replyToken"])     # expired or used: LINE did not send this answer
    assert await line.post(event) == 200
    assert [r.status for r in line.fake.requests if r.path.endswith("/reply")] == [400]
    [push] = line.fake.sent("push")
    assert push.json["to"] == event["source"]["userId"]


# ------------------------------------------------------------------------------------ outbox worker


async def test_a_row_whose_workers_keep_dying_is_given_up_after_max_attempts(app: Runtime, clock: FrozenClock) -> None:
    await queue(app, 1)
    for n in range(3):                                  # claimed, then the process died: three times
        dead = DeliveryWorker(app.sessions, app.clock, {"line": Recorder()}, worker_id=f"dead-{n}", max_attempts=3)
        assert len(await dead.claim()) == 1
        clock.advance(dead.lease + timedelta(seconds=1))
    survivor = DeliveryWorker(app.sessions, app.clock, {"line": (sender := Recorder())}, max_attempts=3)
    assert await survivor.run_once() == {"failed": 1}
    assert sender.delivered == Counter()
    async with app.sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
    assert row.status == "failed" and "abandoned" in (row.last_error or "")
    clock.advance(timedelta(days=1))
    assert await survivor.run_once() == {}              # and it is not taken again
