"""The LINE webhook through the real SDK and the web server, against the fake LINE API (both databases)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.channels.line import signature_ok
from bot.db.engine import create_engine
from bot.db.models.core import ChannelAccount, ProcessedEvent
from bot.services.notices import enqueue
from tests.conftest import drop_pg_connections
from tests.line import webhooks as wh
from tests.line.conftest import Harness, make_harness
from tests.line.fake_line import FakeLine
from tests.line.spec import problems

SPEC = "fixtures/line/messaging-api.yml"


async def count(line: Harness, model: type) -> int:
    async with line.app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


def texts_of(request_json: dict[str, object]) -> str:
    return json.dumps(request_json["messages"], ensure_ascii=False)


async def test_text_gets_one_reply_with_the_token_of_its_event(line: Harness, shared_dir: Path) -> None:
    event = wh.text(wh.user_id(1), "課程")
    assert await line.post(event) == 200
    [reply] = line.fake.sent("reply")
    assert reply.json["replyToken"] == event["replyToken"]
    assert "A｜打磨必備職能" in texts_of(reply.json)
    assert reply.headers["Authorization"] == f"Bearer {wh.TOKEN}"
    assert problems(shared_dir / SPEC, reply.path, reply.json) == []
    assert line.metrics.events_handled.value("message", "ok") == 1


async def test_redelivered_event_is_answered_once(line: Harness) -> None:
    user = wh.user_id(2)
    first = wh.text(user, "時間管理")
    again = wh.text(user, "時間管理", eid=first["webhookEventId"], redelivery=True)
    assert await line.post(first) == 200
    assert await line.post(again) == 200
    assert await line.post(first, again) == 200  # the same id twice in one body, too
    assert len(line.fake.sent("reply")) == 1
    assert line.metrics.events_handled.value("message", "duplicate") == 3
    assert await count(line, ProcessedEvent) == 1


async def test_same_event_at_two_server_processes_at_once_is_answered_once(line: Harness, fake: FakeLine) -> None:
    other = await make_harness(line.app, fake)  # a second server sharing the database
    try:
        event = wh.text(wh.user_id(3), "python")
        statuses = await asyncio.gather(line.post(event), other.post(event))
        assert statuses == [200, 200]
        assert len(fake.sent("reply")) == 1
    finally:
        await other.http.close()
        await other.server.stop()


async def test_bad_or_missing_signature_is_refused_and_leaves_nothing(line: Harness) -> None:
    accounts = await count(line, ChannelAccount)
    raw = wh.body(wh.text(wh.user_id(4), "課程"))
    assert await line.post(raw=raw, signature=None) == 400
    assert await line.post(raw=raw, signature=wh.sign(raw, "another-secret")) == 400
    assert await line.post(raw=raw, signature="not base64 at all") == 400
    assert await line.post(raw=raw + b" ", signature=wh.sign(raw)) == 400  # body changed after signing
    assert line.fake.requests == []
    assert await count(line, ChannelAccount) == accounts
    assert await count(line, ProcessedEvent) == 0
    assert line.metrics.webhooks_rejected.value("signature") == 4
    assert not signature_ok(raw, "", wh.SECRET) and signature_ok(raw, wh.sign(raw), wh.SECRET)


async def test_malformed_json_is_refused(line: Harness) -> None:
    for raw in (b'{"events": [', b'["not", "a", "webhook"]', b'{"destination": "x"}', b"\xff\xfe"):
        assert await line.post(raw=raw) == 400
    assert line.fake.requests == [] and await count(line, ProcessedEvent) == 0
    assert line.metrics.webhooks_rejected.value("malformed") == 4


async def test_oversized_body_is_refused_with_413(line: Harness) -> None:
    event = wh.text(wh.user_id(5), "x" * (1024 * 1024))
    assert await line.post(event) == 413
    chunked = wh.body(wh.text(wh.user_id(5), "y" * (1024 * 1024 + 10)))

    async def stream() -> object:
        yield chunked  # no Content-Length: the server must stop reading at the limit

    async with line.http.post(line.url + "/webhooks/line", data=stream(),
                              headers={"X-Line-Signature": wh.sign(chunked)}) as response:
        assert response.status == 413
    assert line.fake.requests == [] and await count(line, ProcessedEvent) == 0
    assert line.metrics.webhooks_rejected.value("too_large") == 2


async def test_unknown_and_malformed_events_are_acknowledged_without_effect(line: Harness) -> None:
    user = wh.user_id(6)
    unknown = {**wh.text(user, "x"), "type": "somethingNew"}
    missing_id = wh.text(user, "y")
    del missing_id["webhookEventId"]
    not_an_object = "garbage"
    good = wh.text(user, "課程")
    assert await line.post(raw=wh.body(unknown, missing_id, not_an_object, good)) == 200  # type: ignore[arg-type]
    [reply] = line.fake.sent("reply")
    assert reply.json["replyToken"] == good["replyToken"]
    assert await count(line, ProcessedEvent) == 1
    assert line.metrics.events_handled.value("somethingNew", "unknown") == 1
    assert line.metrics.events_handled.value("message", "malformed") == 1
    assert line.metrics.events_handled.value("unknown", "malformed") == 1


async def test_recorded_webhook_of_every_event_type_is_handled_without_errors(line: Harness,
                                                                              shared_dir: Path) -> None:
    recorded = json.loads((shared_dir / "fixtures/line/webhook-events.json").read_text(encoding="utf-8"))
    for event in recorded["events"]:  # the recording reuses one id and one token; LINE's are unique
        event["webhookEventId"] = wh.event_id()
        if "replyToken" in event:
            event["replyToken"] = wh.event_id()
    raw = json.dumps(recorded, ensure_ascii=False).encode()
    assert await line.post(raw=raw) == 200
    replies = line.fake.sent("reply")
    assert replies, "the text, postback and follow events of a user get answers"
    assert all(r.status == 200 for r in line.fake.requests if r.path.endswith("/reply"))
    failed = line.app.texts.get("error.internal", "zh-TW")
    assert all(failed not in texts_of(r.json) for r in replies)
    for reply in replies:
        assert problems(shared_dir / SPEC, reply.path, reply.json) == []


async def test_follow_welcomes_and_unfollow_stops_pushes(line: Harness) -> None:
    user = wh.user_id(7)
    assert await line.post(wh.follow(user)) == 200
    [welcome] = line.fake.sent("reply")
    assert "育才ABC學習小幫手" in texts_of(welcome.json) and "綁定" in texts_of(welcome.json)
    assert await line.post(wh.unfollow(user)) == 200
    assert len(line.fake.sent("reply")) == 1  # nothing to answer an unfollow with
    async with line.app.sessions.begin() as s:
        account = (await s.execute(select(ChannelAccount).where(ChannelAccount.external_id == user))).scalar_one()
        assert account.reachable is False
        row = await enqueue(s, account, [], dedupe_key="after-unfollow", now=line.app.clock.now())
        assert row is not None and row.status == "skipped"
    await line.worker.run_until_idle()
    assert line.fake.sent("push") == []


async def test_postback_goes_to_the_dispatcher_and_forged_payloads_are_answered_politely(line: Harness) -> None:
    user = wh.user_id(8)
    assert await line.post(wh.postback(user, "t|A")) == 200
    assert await line.post(wh.postback(user, "zz|<script>")) == 200
    assert await line.post(wh.postback(user, "i|NO-SUCH-COURSE")) == 200
    first, forged, stale = line.fake.sent("reply")
    assert "領導管理訓練" in texts_of(first.json)
    assert line.app.texts.get("error.bad_button", "zh-TW") in texts_of(forged.json)
    assert line.app.texts.get("course.not_found", "zh-TW") in texts_of(stale.json)
    assert "quickReply" in texts_of(stale.json)


async def test_events_of_one_user_are_answered_in_order(line: Harness) -> None:
    user = wh.user_id(9)
    events = [wh.text(user, q) for q in ("課程", "python", "English", "help")]
    assert await line.post(*events) == 200
    tokens = [r.json["replyToken"] for r in line.fake.sent("reply")]
    assert tokens == [e["replyToken"] for e in events]
    assert "Hello" in texts_of(line.fake.sent("reply")[-1].json)  # after "English", in English


async def test_image_is_fetched_with_a_cap_and_explained(line: Harness) -> None:
    user = wh.user_id(10)
    small, huge, gone = "500000000000001", "500000000000002", "500000000000003"  # LINE's ids are digits
    line.fake.content[small] = b"\xff\xd8" + b"0" * 1000
    line.fake.content[huge] = b"0" * (line.line.max_image_bytes + 1)
    assert await line.post(wh.image(user, small)) == 200
    assert await line.post(wh.image(user, huge)) == 200
    assert await line.post(wh.image(user, gone)) == 200
    ok, too_big, missing = line.fake.sent("reply")
    assert "證書獎勵" in texts_of(ok.json) and "綁定" in texts_of(ok.json)  # an unbound user: bind first
    assert "太大" in texts_of(too_big.json)
    assert line.app.texts.get("cert.photo.unavailable", "zh-TW") in texts_of(missing.json)
    assert len([r for r in line.fake.requests if r.path.endswith("/content")]) == 3
    assert line.fake.sent("loading")  # the user saw the loading animation while we fetched


async def test_sticker_gets_a_short_help(line: Harness) -> None:
    assert await line.post(wh.sticker(wh.user_id(11))) == 200
    [reply] = line.fake.sent("reply")
    assert line.app.texts.get("error.unsupported_message", "zh-TW") in texts_of(reply.json)
    assert "quickReply" in texts_of(reply.json)


async def test_reply_retried_after_429_and_500_is_delivered_once(line: Harness) -> None:
    line.fake.fail("reply", 429, 500)
    assert await line.post(wh.text(wh.user_id(12), "課程")) == 200
    assert [r.status for r in line.fake.requests if r.path.endswith("/reply")] == [429, 500, 200]
    assert len(line.fake.sent("reply")) == 1
    assert line.metrics.api_failures.value("reply", "429") == 1


async def test_stale_reply_token_falls_back_to_push_with_one_retry_key(line: Harness, fake: FakeLine) -> None:
    slow = await make_harness(line.app, fake, reply_ttl=0.0)  # every token is already too old
    try:
        user = wh.user_id(13)
        fake.fail("push", 500, accept_first=True)  # LINE took it, but the answer was lost
        assert await slow.post(wh.text(user, "課程")) == 200
        pushes = [r for r in fake.requests if r.path.endswith("/push")]
        assert [r.status for r in pushes] == [500, 409]  # the retry repeats the key: LINE says "already sent"
        assert pushes[0].retry_key == pushes[1].retry_key and pushes[0].json["to"] == user
        assert fake.sent("reply") == []
    finally:
        await slow.http.close()
        await slow.server.stop()


async def test_more_than_five_messages_continue_by_push(line: Harness) -> None:
    from bot.channels.line_render import render
    from bot.conversation import Reply

    user = wh.user_id(14)
    await line.sender.answer(user, "token-1", time.monotonic(), render([Reply.plain(f"第{i}則") for i in range(7)]))
    assert len(line.fake.sent("reply")) == 1 and len(line.fake.sent("reply")[0].json["messages"]) == 5
    [push] = line.fake.sent("push")
    assert [m["text"] for m in push.json["messages"]] == ["第5則", "第6則"] and push.retry_key


async def test_health_and_metrics(line: Harness) -> None:
    async with line.http.get(line.url + "/healthz") as response:
        assert response.status == 200 and (await response.json())["database"] == "ok"
    await line.post(wh.text(wh.user_id(15), "help"))
    async with line.http.get(line.url + "/metrics") as response:
        page = await response.text()
    assert 'abc_line_events_received_total{type="message"} 1' in page
    assert 'abc_line_api_calls_total{call="reply"} 1' in page
    assert "abc_line_event_seconds_count 1" in page
    assert 'abc_http_requests_total{path="/webhooks/line",status="200"} 1' in page


async def test_health_is_503_when_the_database_does_not_answer(line: Harness) -> None:
    await line.app.engine.dispose()
    line.app.engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with line.http.get(line.url + "/healthz") as response:
        assert response.status == 503 and (await response.json())["database"] == "unreachable"


async def test_shutdown_finishes_queued_events_first(app: object, fake: FakeLine) -> None:
    harness = await make_harness(app, fake)  # type: ignore[arg-type]
    users = [wh.user_id(f"s{i}") for i in range(10)]
    assert await harness.post(*[wh.text(u, "python") for u in users], wait=False) == 200
    await harness.http.close()
    await harness.server.stop()  # no join: stop itself must drain the queue
    assert len(fake.sent("reply")) == 10


async def test_health_and_answers_survive_the_database_dropping_connections(line: Harness) -> None:
    """Connections are not pinged before use: after they are dropped, /healthz is 200 and messages are answered."""
    if line.app.engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL drops connections")
    await line.post(wh.text(wh.user_id(16), "help"))
    assert await drop_pg_connections(line.app.engine.url.database) >= 1
    async with line.http.get(line.url + "/healthz") as response:
        assert response.status == 200
    assert await drop_pg_connections(line.app.engine.url.database) >= 1  # now the message meets a dead one
    await line.post(wh.text(wh.user_id(16), "時數"))
    replies = line.fake.sent("reply")
    assert len(replies) == 2
    assert line.app.texts.get("error.internal", "zh-TW") not in json.dumps(replies[1].json, ensure_ascii=False)
