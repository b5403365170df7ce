"""Photos and documents on Telegram: the largest size through getFile, the 10 MiB cap, images and PDFs only."""

from __future__ import annotations

import pytest

from bot.conversation import IncomingMessage
from tests.telegram import updates as up
from tests.telegram.conftest import Harness

JPEG = b"\xff\xd8\xff\xe0" + b"certificate" * 100


@pytest.fixture
def seen(tg: Harness, monkeypatch: pytest.MonkeyPatch) -> list[IncomingMessage]:
    """The messages the dispatcher was handed (the image handler answers as on LINE)."""
    messages: list[IncomingMessage] = []
    handle = tg.app.dispatcher.handle

    async def spy(msg: IncomingMessage, **kw: object) -> object:
        messages.append(msg)
        return await handle(msg, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(tg.app.dispatcher, "handle", spy)
    return messages


async def test_the_largest_photo_size_is_fetched_and_handed_over(tg: Harness, seen: list[IncomingMessage]) -> None:
    tg.fake.files["big"] = JPEG
    tg.fake.files["small"] = b"thumb"
    assert await tg.post(up.photo(3001, [("small", 90, 5), ("big", 1280, len(JPEG))])) == 200
    [msg] = seen
    assert msg.kind == "image" and msg.image == JPEG and msg.image_problem is None
    assert [c.params["file_id"] for c in tg.fake.calls if c.method == "getFile"] == ["big"]
    assert "收到您的照片" in tg.fake.sent("sendMessage", 3001)[-1].text


async def test_a_photo_over_10_mib_is_refused_without_downloading(tg: Harness, seen: list[IncomingMessage]) -> None:
    assert await tg.post(up.photo(3002, [("huge", 4000, 11 * 1024 * 1024)])) == 200
    assert seen[0].image is None and seen[0].image_problem == "too_large"
    assert not [c for c in tg.fake.calls if c.method in ("getFile", "download")]
    assert "太大" in tg.fake.sent("sendMessage", 3002)[-1].text


async def test_a_photo_larger_than_it_claimed_is_cut_off(tg: Harness, seen: list[IncomingMessage]) -> None:
    tg.fake.files["liar"] = b"x" * 2048
    tg.telegram.max_image_bytes = 1024
    assert await tg.post(up.photo(3003, [("liar", 800, 100)])) == 200
    assert seen[0].image is None and seen[0].image_problem == "too_large"


async def test_a_photo_telegram_cannot_give_is_unavailable(tg: Harness, seen: list[IncomingMessage]) -> None:
    assert await tg.post(up.photo(3004, [("gone", 800, 100)])) == 200
    assert seen[0].image is None and seen[0].image_problem == "unavailable"


async def test_image_and_pdf_documents_are_fetched_others_not(tg: Harness, seen: list[IncomingMessage]) -> None:
    tg.fake.files["scan"] = b"%PDF-1.7 certificate"
    tg.fake.files["pic"] = JPEG
    assert await tg.post(up.document(3005, "scan", "application/pdf", 20)) == 200
    assert await tg.post(up.document(3005, "pic", "image/jpeg", len(JPEG))) == 200
    assert await tg.post(up.document(3005, "sheet", "application/vnd.ms-excel", 10)) == 200
    assert [(m.kind, m.image) for m in seen] == [("image", b"%PDF-1.7 certificate"), ("image", JPEG), ("other", None)]
