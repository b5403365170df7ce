"""An announcement's link button and picture: LINE's limits, the stored picture, its signed link, the multicast body.

The multicast goes through the real line-bot-sdk client to the fake LINE API, and its body is checked against
LINE's OpenAPI spec: the picture is an image message and the link a URI action.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.bootstrap import Runtime
from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.metrics import Metrics
from bot.services.accounts import Scope
from bot.services.broadcasts import (
    ChunkDeliverer,
    ComposeError,
    Content,
    ImageSigner,
    ImageStore,
    make_plan,
    parse_audience,
    prepare_image,
    publish_image,
)
from tests.broadcasts.test_broadcasts import AGENCY, _send, people
from tests.certificates.images import encoded, jpeg_with_gps
from tests.line.conftest import no_sleep
from tests.line.fake_line import FakeLine
from tests.line.spec import problems

SPEC = "fixtures/line/messaging-api.yml"
IMG = "https://bot.example.tw/media/announcements/" + "a" * 64 + "/full/sig.jpg"
LINK = "https://elearn.example.tw/class/DEMO-TM-01"


@pytest.mark.parametrize(("content", "says"), [
    (Content("hi", link="https://h/" + "a" * 1000), "1000"),
    (Content("hi", link="https://h/x y"), "https://"),
    (Content("hi", link="javascript:alert(1)"), "https://"),
    (Content("hi", link=LINK, link_label="報名" * 10 + "喔"), "20"),
    (Content("hi", link=LINK, link_label="兩\n行"), "one line"),
    (Content("hi", link_label="報名"), "needs a link"),
    (Content("hi", image_url="http://h/a.jpg"), "https://"),
    (Content("hi", image_url="https://h/a.gif"), "JPEG or PNG"),
    (Content("hi", image_url="https://h/" + "a" * 2000 + ".jpg"), "2000"),
])
def test_links_and_pictures_line_would_refuse_are_refused_before_queueing(content: Content, says: str) -> None:
    with pytest.raises(ComposeError, match=says):
        content.check()


def test_the_cost_counts_every_message_object_a_recipient_gets() -> None:
    assert Content("hi").message_objects == 1
    assert Content("hi", link=LINK).message_objects == 1  # the text and its button: one bubble
    assert Content("hi", link=LINK, image_url=IMG).message_objects == 2  # + the image message
    assert Content("說" * 1990, link=LINK).message_objects == 2  # too long for a bubble: text, then the button
    assert Content("說" * 1990).message_objects == 1


def test_a_picture_is_reencoded_without_its_metadata_and_a_small_preview() -> None:
    image = prepare_image(jpeg_with_gps((3000, 2000)))
    with Image.open(io.BytesIO(image.full)) as full, Image.open(io.BytesIO(image.preview)) as small:
        assert full.format == "JPEG" and max(full.size) == 2048 and not full.getexif()
        assert max(small.size) == 240 and len(image.preview) < 1024 * 1024
        assert full.size[1] > full.size[0]  # the EXIF orientation was applied before it was dropped
    assert prepare_image(encoded("PNG")).sha256 != image.sha256
    for bad, says in ((encoded("WEBP"), "JPEG or PNG"), (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "cannot be read"),
                      (b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024), "10 MB")):
        with pytest.raises(ComposeError, match=says):
            prepare_image(bad)


def test_a_stored_picture_is_served_only_at_its_signed_link(tmp_path: Path) -> None:
    store, signer = ImageStore(tmp_path), ImageSigner(b"k" * 32, "https://bot.example.tw/")
    url, preview = publish_image(encoded("PNG"), store, signer)
    assert url.startswith("https://bot.example.tw/media/announcements/") and url.endswith("/full/" + url[-47:])
    path = url.removeprefix("https://bot.example.tw")
    sha, variant = signer.verify(path) or ("", "")
    assert variant == "full" and store.read(sha, "full") is not None
    assert signer.verify(preview.removeprefix("https://bot.example.tw")) == (sha, "preview")
    assert signer.verify(path.replace("/full/", "/preview/")) is None  # a signature names its variant
    assert ImageSigner(b"other" * 8, "https://bot.example.tw").verify(path) is None
    assert store.read("../../etc/passwd", "full") is None


async def test_the_multicast_body_holds_the_text_card_with_its_uri_action_and_the_image(
        app: Runtime, shared_dir: Path) -> None:
    await people(app, 3)
    content = Content("新班「數位思維」開放報名", link=LINK, link_label="報名網頁", image_url=IMG,
                      image_preview_url=IMG.replace("/full/", "/preview/"))
    async with app.sessions() as s:
        plan = await make_plan(s, parse_audience(f"agency:{AGENCY}", app.rules), content, scope=Scope(city=True),
                               rules=app.rules, today=app.clock.now().date())
    assert plan.cost == 3 * 2  # three LINE recipients × (the text card + the image)
    sent = await _send(app, f"agency:{AGENCY}", content)
    fake = await FakeLine().start()
    client = LineClient("t", fake.url)
    try:
        deliverer = ChunkDeliverer(app.sessions, app.clock, {"line": LineSender(client, Metrics(), sleep=no_sleep)},
                                   app.app.deps.notices.render)
        assert await deliverer.run_once() == {"sent": sent.chunks}
    finally:
        await client.close()
        await fake.stop()
    bodies = [r.json for r in fake.sent("multicast")]
    assert len(bodies) == 1 and sorted(bodies[0]["to"]) == ["UB00000", "UB00001", "UB00002"]
    card, image = bodies[0]["messages"]
    assert card["type"] == "flex" and "新班「數位思維」開放報名" in card["altText"]
    assert card["contents"]["footer"]["contents"][0]["action"] == {"type": "uri", "label": "報名網頁", "uri": LINK}
    assert image == {"type": "image", "originalContentUrl": IMG, "previewImageUrl": IMG.replace("/full/", "/preview/")}
    assert bodies[0]["customAggregationUnits"] == [sent.broadcast.unit]
    assert problems(shared_dir / SPEC, "/v2/bot/message/multicast", bodies[0]) == []


async def test_serve_answers_a_signed_picture_link_and_a_bare_404_to_anything_else(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot import web_media
    from tests.conftest import base_settings

    settings = dataclasses.replace(base_settings("sqlite://"), media_dir=tmp_path, media_url_secret="k" * 32,
                                   public_base_url="https://bot.example.tw")
    signer = ImageSigner(b"k" * 32, "https://bot.example.tw")
    url, _ = publish_image(encoded("PNG"), ImageStore(tmp_path), signer)
    path = url.removeprefix("https://bot.example.tw")
    application = web.Application()
    application.router.add_get(web_media.ANNOUNCEMENT_ROUTE,
                               web_media.announcement_image_handler(SimpleNamespace(settings=settings)))  # type: ignore[arg-type]
    async with TestClient(TestServer(application)) as http:
        async with http.get(path) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "image/jpeg"
            assert response.headers["Cache-Control"] == "public, max-age=86400"
        for wrong in (path[:-8] + "AAAA.jpg", path.replace("/full/", "/preview/"), "/media/announcements/x"):
            async with http.get(wrong) as response:
                assert response.status == 404 and await response.read() == b""
