"""The announcement flow's link button and picture in chat, as dialog tables.

An HR officer adds a link (a bad one is explained and asked again), a picture sent as a photo while the
flow waits for it or for the text (the cost per recipient doubles), removes them again; without a public
address the bot says pictures cannot be sent; a photo outside the flow still starts a certificate claim.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.conversation import IncomingMessage
from bot.db.models.broadcasts import Broadcast
from bot.services.accounts import bind_console_account
from bot.services.broadcasts import ImageSigner, ImageStore
from bot.services.certificates import MediaStore
from tests.broadcasts.test_dialogs import _deliver, bind_line
from tests.certificates import images
from tests.certificates.conftest import use_certificates
from tests.dialog import Photo, Press, Say, all_text, buttons_of, run_dialog
from tests.line.fake_line import FakeLine

BASE = "https://bot.example.tw"
SECRET = "k" * 32


@contextmanager
def public_media(app: Runtime, media_dir: Path) -> Iterator[None]:
    """The app with PUBLIC_BASE_URL, MEDIA_URL_SECRET and MEDIA_DIR set, as an installation that serves pictures."""
    before = app.app
    settings = dataclasses.replace(before.settings, media_dir=media_dir, public_base_url=BASE,
                                   media_url_secret=SECRET)
    app.app = app.dispatcher.app = dataclasses.replace(before, settings=settings)
    try:
        yield
    finally:
        app.app = app.dispatcher.app = before


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


START = [
    Say("發布公告", intent="announce"),
    Press("必修時數未完成", intent="announce"),
]


async def test_a_link_is_added_a_bad_one_asked_again_and_it_is_sent(app: Runtime) -> None:
    await bind_line(app, ["T0001", "T0002"])
    await run_dialog(app, "T0005", [
        *START,
        Say("數位思維新班開放報名", intent="announce", shows=["每位收件人 1 則訊息", "LINE 訊息則數：2"],
            buttons=["加入連結", "加入圖片", "確認發布"], hides=["連結按鈕"]),
        Press("加入連結", intent="announce", shows=["https://", "查看詳情"]),
        Say("http://example.tw/apply", intent="announce", shows=["無法使用", "https://", "請輸入連結網址"],
            hides=["發布前確認"]),
        Say("https://example.tw/apply 這個按鈕文字實在是太長了超過二十個字的上限喔", intent="announce",
            shows=["無法使用", "20"]),
        Say("https://example.tw/apply", intent="announce",
            shows=["發布前確認", "連結按鈕：查看詳情 → https://example.tw/apply", "每位收件人 1 則訊息"],
            buttons=["移除連結", "確認發布"], hides=["加入連結"]),
        Press("移除連結", intent="announce", hides=["連結按鈕"], buttons=["加入連結"]),
        Press("加入連結", intent="announce"),
        Say("https://example.tw/apply?c=7 報名去", intent="announce",
            shows=["連結按鈕：報名去 → https://example.tw/apply?c=7"]),
        Press("確認發布", intent="announce", shows=["已排入發送"]),
    ])
    async with app.sessions() as s:
        broadcast = (await s.execute(select(Broadcast))).scalar_one()
    assert (broadcast.link_url, broadcast.link_label, broadcast.image_url) == \
        ("https://example.tw/apply?c=7", "報名去", None)
    fake = await FakeLine().start()
    try:
        await _deliver(app, fake)
        [body] = [r.json for r in fake.sent("multicast")]
    finally:
        await fake.stop()
    assert sorted(body["to"]) == ["UdT0001", "UdT0002"]
    assert "https://example.tw/apply?c=7" in str(body["messages"]) and "報名去" in str(body["messages"])


async def test_the_send_button_of_the_preview_before_the_link_is_stale(app: Runtime) -> None:
    [*_, first] = await run_dialog(app, "T0005", [*START, Say("午間講座", intent="announce")])
    [old_send] = [b.action for b in buttons_of(first.replies) if b.label == "確認發布"]
    await run_dialog(app, "T0005", [
        *START,
        Say("午間講座", intent="announce"),
        Press("加入連結", intent="announce"),
        Say("https://example.tw/apply", intent="announce", shows=["連結按鈕"]),
    ])
    assert old_send is not None
    stale = await app.dispatcher.handle(IncomingMessage.from_payload("console", "T0005", old_send.pack()))
    assert "按鈕已經失效" in all_text(stale.replies)
    async with app.sessions() as s:
        assert (await s.execute(select(Broadcast))).first() is None


async def test_cancel_while_asked_for_a_link_goes_back_to_the_preview(app: Runtime) -> None:
    await run_dialog(app, "T0005", [
        *START,
        Say("午間講座", intent="announce"),
        Press("加入連結", intent="announce"),
        Say("取消", intent="announce", shows=["發布前確認", "午間講座"], hides=["連結按鈕"], buttons=["加入連結"]),
    ])


async def test_a_picture_sent_in_the_flow_goes_to_the_announcement_and_doubles_the_cost(
        sqlite_app: Runtime, tmp_path: Path) -> None:
    app = sqlite_app
    use_certificates(app, store=MediaStore(tmp_path / "certs"), signer=None, ocr=None)
    await bind_line(app, ["T0001", "T0002"])
    poster = _file(tmp_path, "poster.jpg", images.jpeg_with_gps())
    with public_media(app, tmp_path / "media"):
        await run_dialog(app, "T0005", [
            *START,
            Say("數位思維新班開放報名", intent="announce", shows=["LINE 訊息則數：2", "每位收件人 1 則訊息"]),
            Press("加入圖片", intent="announce", shows=["請傳送", "照片"]),
            Say("這不是照片", intent="announce", shows=["請傳送"]),
            Photo(str(_file(tmp_path, "x.jpg", b"\xff\xd8\xff not really a jpeg")), intent="announce",
                  shows=["這張圖片無法使用", "發布前確認"], hides=["圖片：已附加"], buttons=["加入圖片"]),
            Press("加入圖片", intent="announce"),
            Photo(str(poster), intent="announce",
                  shows=["圖片：已附加", "每位收件人 2 則訊息", "LINE 訊息則數：4"],
                  hides=["哪一種證書"], buttons=["移除圖片", "加入連結", "確認發布"]),
            Press("移除圖片", intent="announce", shows=["LINE 訊息則數：2"], hides=["圖片：已附加"]),
            Press("加入圖片", intent="announce"),
            Photo(str(poster), intent="announce", shows=["LINE 訊息則數：4"]),
            Press("確認發布", intent="announce", shows=["已排入發送"]),
            # the flow is over: a photo is a certificate claim again
            Photo(str(_file(tmp_path, "cert.png", images.encoded("PNG"))), intent="certificate",
                  shows=["哪一種證書"]),
        ])
    async with app.sessions() as s:
        broadcast = (await s.execute(select(Broadcast))).scalar_one()
    assert broadcast.counts["cost"] == 4
    assert broadcast.image_url is not None and broadcast.image_url.startswith(f"{BASE}/media/announcements/")
    signer = ImageSigner(SECRET.encode(), BASE)
    found = signer.verify(broadcast.image_url.removeprefix(BASE))
    assert found is not None
    sha256, variant = found
    stored = ImageStore(tmp_path / "media").read(sha256, "full")
    assert variant == "full" and stored is not None and stored != poster.read_bytes()  # re-encoded, no GPS
    assert b"GPS" not in stored and broadcast.image_preview_url == signer.url(sha256, "preview")
    fake = await FakeLine().start()
    try:
        await _deliver(app, fake)
        [body] = [r.json for r in fake.sent("multicast")]
    finally:
        await fake.stop()
    assert [m["type"] for m in body["messages"]][-1] == "image"
    assert body["messages"][-1]["originalContentUrl"] == broadcast.image_url


async def test_the_buttons_in_english(app: Runtime) -> None:
    async with app.sessions.begin() as s:
        account = await bind_console_account(s, "T0005", lang="en", now=app.clock.now())
        account.lang = "en"
    await run_dialog(app, "T0005", [
        Say("announce", intent="announce"),
        Press("Mandatory hours missing", intent="announce"),
        Say("New class open", intent="announce", buttons=["Add link", "Add picture"],
            shows=["1 message(s) per recipient"]),
        Press("Add link", intent="announce", shows=["https://", "Details"]),
        Say("ftp://example.tw", intent="announce", shows=["cannot be used"]),
        Say("https://example.tw/apply Sign up", intent="announce",
            shows=["Link button: Sign up → https://example.tw/apply"], buttons=["Remove link"]),
        Press("Add picture", intent="announce", shows=["cannot carry pictures"]),
    ])


async def test_without_a_public_address_pictures_are_declined_politely(app: Runtime) -> None:
    await run_dialog(app, "T0005", [
        *START,
        Say("午間講座", intent="announce"),
        Press("加入圖片", intent="announce", shows=["無法在公告中附加圖片", "發布前確認"], hides=["請傳送"],
              buttons=["確認發布"]),
    ])


async def test_a_photo_outside_the_flow_is_still_a_certificate_claim(sqlite_app: Runtime, tmp_path: Path) -> None:
    app = use_certificates(sqlite_app, store=MediaStore(tmp_path / "certs"), signer=None, ocr=None)
    photo = str(_file(tmp_path, "cert.png", images.encoded("PNG")))
    with public_media(app, tmp_path / "media"):
        await run_dialog(app, "T0005", [
            Photo(photo, intent="certificate", shows=["哪一種證書"]),
        ])
        await run_dialog(app, "T0001", [
            *START[:1],  # an employee is refused the flow; their photo is theirs to claim
            Photo(photo, intent="certificate", shows=["哪一種證書"]),
        ])


async def test_a_photo_sent_when_asked_for_the_text_is_the_announcements_picture(
        sqlite_app: Runtime, tmp_path: Path) -> None:
    app = use_certificates(sqlite_app, store=MediaStore(tmp_path / "certs"), signer=None, ocr=None)
    await bind_line(app, ["T0001", "T0002"])
    poster = str(_file(tmp_path, "poster.png", images.encoded("PNG")))
    with public_media(app, tmp_path / "media"):
        await run_dialog(app, "T0005", [
            *START,
            Photo(poster, intent="announce", shows=["圖片已收到", "請輸入公告內容"], hides=["哪一種證書"]),
            Say("這裡有個 {nickname}", intent="announce", shows=["無法發送"]),  # a bad text keeps the picture
            Say("數位思維新班開放報名", intent="announce",
                shows=["圖片：已附加", "每位收件人 2 則訊息", "LINE 訊息則數：4"], buttons=["移除圖片"]),
        ])
    await run_dialog(app, "T0005", [  # an installation without a public address says so, and asks for the text
        *START,
        Photo(poster, intent="announce", shows=["無法在公告中附加圖片", "請輸入公告內容"]),
        Say("午間講座", intent="announce", shows=["每位收件人 1 則訊息"], hides=["圖片：已附加"]),
    ])
