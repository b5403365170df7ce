"""The issue's "Done when", end to end through the real LINE SDK against the fake LINE API, on both databases.

An employee sends a photo of a GEPT 中級 certificate issued two months ago, answers the wizard and gets
"pending"; an HR officer of their agency approves it in chat (opening the photo's signed link); the
employee is told; ``abc-bot report rewards`` lists 嘉獎2次; a second claim for the same level is refused
before submission; the stored file has no EXIF; the link stops working once it expires.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.bootstrap import Runtime
from bot.clock import FrozenClock
from bot.services.certificates import MediaStore, UrlSigner
from tests.certificates import images
from tests.certificates.conftest import SECRET, bind, postbacks, use_certificates
from tests.line import webhooks as wh
from tests.line.conftest import Harness, make_harness
from tests.line.fake_line import FakeLine
from tests.line.test_webhook import texts_of

EMPLOYEE, HR = wh.user_id(101), wh.user_id(102)


@pytest.fixture
async def fake() -> AsyncIterator[FakeLine]:
    server = await FakeLine().start()
    yield server
    await server.stop()


@pytest.fixture
async def line(app: Runtime, fake: FakeLine, media: MediaStore) -> AsyncIterator[Harness]:
    harness = await make_harness(app, fake)
    use_certificates(app, store=media, signer=UrlSigner(SECRET, harness.url, 600), ocr=None)
    await bind(app, "line", EMPLOYEE, "T0001")
    await bind(app, "line", HR, "T0005")  # agency HR of 桃園市政府人事處, T0001's agency (data/demo/roles.csv)
    yield harness
    await harness.http.close()
    await harness.server.stop()



def line_id(label: str) -> str:
    """A LINE-shaped (all digits) message id for a readable test label: the channel refuses other shapes."""
    return str(500_000_000_000_000 + zlib.crc32(label.encode()))

class Chat:
    """One LINE user talking to the bot: say, press a button of the last answer, read the last answer."""

    def __init__(self, line: Harness, user: str) -> None:
        self.line, self.user, self.last = line, user, ""
        self.buttons: dict[str, str] = {}

    async def _answer(self, event: dict[str, object]) -> str:
        before = len(self.line.fake.sent("reply"))
        assert await self.line.post(event) == 200
        reply = self.line.fake.sent("reply")[before]
        self.last, self.buttons = texts_of(reply.json), postbacks(reply.json)
        return self.last

    async def say(self, text: str) -> str:
        return await self._answer(wh.text(self.user, text))

    async def press(self, label: str) -> str:
        assert label in self.buttons, f"no button {label!r} in {list(self.buttons)}\n{self.last}"
        return await self._answer(wh.postback(self.user, self.buttons[label]))

    async def photo(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> str:
        self.line.fake.content[line_id(message_id)] = (data, content_type)
        return await self._answer(wh.image(self.user, line_id(message_id)))


async def claim_gept_intermediate(chat: Chat, message_id: str) -> str:
    """Send a photo and answer: English → GEPT → 中級 → issued 113/1/1 (two months before 113/3/1)."""
    assert "哪一種證書" in await chat.photo(message_id, images.jpeg_with_gps())
    assert "哪一種測驗" in await chat.press("英語檢定")
    assert "通過哪一級" in await chat.press("全民英檢 GEPT")
    assert "發證日期" in await chat.press("中級")
    return await chat.say("113/1/1")


async def test_done_when(line: Harness, app: Runtime, clock: FrozenClock, media: MediaStore,
                         cli_for: Callable[[str], Callable[[list[str]], object]], tmp_path: Path) -> None:
    employee, hr = Chat(line, EMPLOYEE), Chat(line, HR)

    checked = await claim_gept_intermediate(employee, "photo-1")
    assert "符合「中級」嘉獎2次" in checked
    assert "待審核" in await employee.press("送出申請")
    claim_id = int(re.search(r"#(\d+)", employee.last)[1])  # type: ignore[index]

    # HR of the same agency: the queue, the claim with its rule check and the photo's signed link, approve.
    assert f"#{claim_id}" in await hr.say("審核證書")
    shown = await hr.press("審核")
    assert "規則檢核：符合「中級」嘉獎2次" in shown
    url = re.search(r"(http://127\.0\.0\.1:\d+/media/claims/\S+\.jpg)", shown)[1]  # type: ignore[index]
    async with line.http.get(url) as response:
        assert response.status == 200 and response.content_type == "image/jpeg"
        served = await response.read()
    with Image.open(io.BytesIO(served)) as photo:
        assert not photo.getexif() and "exif" not in photo.info
    await hr.press("核准")
    assert "已核准" in await hr.press("確定核准") and "已通知申請人" in hr.last

    # The employee is told through the outbox, in their language.
    await line.worker.run_until_idle()
    [pushed] = [r for r in line.fake.sent("push") if r.json["to"] == EMPLOYEE]
    assert "已核准" in texts_of(pushed.json) and "嘉獎2次" in texts_of(pushed.json)

    # abc-bot report rewards lists it (run as HR runs it, in a thread: the CLI has its own event loop).
    run = cli_for(app.settings.database_url)
    out = tmp_path / "rewards.csv"
    result = await asyncio.to_thread(run, ["report", "rewards", "--out", str(out)])
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["員工編號"], r["等級或成績"], r["敘獎額度"]) for r in rows] == [("T0001", "中級", "嘉獎2次")]

    # A second claim for the same level is refused before submission.
    refused = await claim_gept_intermediate(employee, "photo-2")
    assert "已因「中級」或更高等級敘獎過" in refused and "送出申請" not in employee.buttons

    # The stored file has no EXIF; the link stops working once it expires.
    stored = list((media.root).rglob("*.jpg"))
    assert len(stored) == 1  # the same photo twice is one file, named by its hash
    with Image.open(stored[0]) as photo:
        assert not photo.getexif()
    assert b"PhoneMaker" not in stored[0].read_bytes()
    clock.advance(timedelta(seconds=601))
    async with line.http.get(url) as response:
        assert response.status == 404 and await response.read() == b""


async def test_files_pdfs_and_bad_photos_on_line(line: Harness) -> None:
    employee = Chat(line, EMPLOYEE)
    line.fake.content[line_id("pdf")] = (images.pdf(), "application/pdf")
    assert await line.post(wh.file(EMPLOYEE, line_id("pdf"), "成績單.pdf", len(images.pdf()))) == 200
    assert "哪一種證書" in texts_of(line.fake.sent("reply")[-1].json)
    assert await line.post(wh.file(EMPLOYEE, line_id("doc"), "報告.docx", 1000)) == 200  # not fetched at all
    assert "不是照片或 PDF" in texts_of(line.fake.sent("reply")[-1].json)
    assert not [r for r in line.fake.requests if r.path.endswith("/doc/content")]
    assert await line.post(wh.file(EMPLOYEE, line_id("big"), "a.jpg", 11 * 1024 * 1024)) == 200
    assert "太大" in texts_of(line.fake.sent("reply")[-1].json)
    for message_id, data, content_type, says in [
        ("png", images.encoded("PNG"), "image/png", "哪一種證書"),
        ("heic", images.encoded("HEIF"), "image/heic", "哪一種證書"),
        ("bomb", images.png_bomb(), "image/png", "像素太多"),
        ("text", images.NOT_AN_IMAGE, "application/octet-stream", "不是照片或 PDF"),
        ("cut", images.broken_jpeg(), "image/jpeg", "打不開"),
        ("tiny", images.encoded("PNG", (200, 200)), "image/png", "太小"),
    ]:
        assert says in await employee.photo(message_id, data, content_type), message_id
    # Four photos were kept (PDF, PNG, HEIC … each a draft); the bad ones left nothing behind.
    media = line.app.app.certificates.store
    assert len(list(media.root.rglob("*.jpg"))) == 3
    assert not list(media.root.rglob("*.tmp"))


async def test_tampered_and_guessed_links_answer_a_bare_404(line: Harness, app: Runtime) -> None:
    employee = Chat(line, EMPLOYEE)
    await claim_gept_intermediate(employee, "p")
    await employee.press("送出申請")
    signer = app.app.certificates.signer
    assert signer is not None
    good = signer.path(1, "full", app.clock.now())
    for path in (good.replace("/full/", "/preview/"), good.replace("/media/claims/1/", "/media/claims/2/"),
                 good[:-10] + "AAAAAA.jpg", "/media/claims/1/full/9999999999/" + "A" * 43 + ".jpg", "/media/claims/"):
        async with line.http.get(line.url + path) as response:
            assert response.status == 404 and await response.read() == b"", path
    async with line.http.get(line.url + signer.path(1, "preview", app.clock.now())) as response:
        assert response.status == 200
        with Image.open(io.BytesIO(await response.read())) as small:
            assert max(small.size) == 240


async def test_hr_sees_the_photo_as_a_line_image_message(line: Harness, app: Runtime, media: MediaStore) -> None:
    employee, hr = Chat(line, EMPLOYEE), Chat(line, HR)
    await claim_gept_intermediate(employee, "p")
    await employee.press("送出申請")
    use_certificates(app, signer=UrlSigner(SECRET, "https://bot.example.tw", 600))  # as PUBLIC_BASE_URL would be
    await hr.say("審核證書")
    await hr.press("審核")
    [image] = [m for m in line.fake.sent("reply")[-1].json["messages"] if m["type"] == "image"]
    assert image["originalContentUrl"].startswith("https://bot.example.tw/media/claims/1/full/")
    assert image["previewImageUrl"].startswith("https://bot.example.tw/media/claims/1/preview/")
    for key, side in (("originalContentUrl", 2400), ("previewImageUrl", 240)):
        path = image[key].removeprefix("https://bot.example.tw")
        async with line.http.get(line.url + path) as response:
            assert response.status == 200 and response.headers["Cache-Control"] == "private, no-store"
            with Image.open(io.BytesIO(await response.read())) as served:
                assert max(served.size) <= side and not served.getexif()
    assert str(media.root) not in texts_of(line.fake.sent("reply")[-1].json)  # the local path stays on the server


async def test_an_hr_officers_poster_in_the_announcement_flow_is_no_claim(line: Harness, app: Runtime,
                                                                          tmp_path: Path) -> None:
    from tests.broadcasts.test_dialogs_media import public_media

    employee, hr = Chat(line, EMPLOYEE), Chat(line, HR)
    with public_media(app, tmp_path / "announcements"):
        await hr.say("發布公告")
        await hr.press("必修時數未完成")
        assert "每位收件人 1 則訊息" in await hr.say("數位思維新班開放報名")
        assert "請傳送" in await hr.press("加入圖片")
        shown = await hr.photo("poster", images.jpeg_with_gps())
        assert "圖片：已附加" in shown and "每位收件人 2 則訊息" in shown and "哪一種證書" not in shown
        assert "已排入發送" in await hr.press("確認發布")
        assert "哪一種證書" in await hr.photo("after", images.jpeg_with_gps())  # the flow is over: a claim again
        assert "哪一種證書" in await employee.photo("theirs", images.jpeg_with_gps())
    assert list((tmp_path / "announcements").rglob("*.jpg"))
