"""The wizard and the review as conversations on the console channel.

Typing instead of pressing, scores, Hakka, withdrawing, a typed reject reason, an officer of another
agency, the English texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import Runtime
from bot.channels.console import photo_message, render_text
from bot.conversation import IncomingMessage, MessageKind
from bot.services.accounts import bind_console_account
from bot.services.certificates import MediaStore
from tests.certificates import images
from tests.certificates.conftest import use_certificates
from tests.certificates.test_claims import _grant
from tests.dialog import all_text, buttons_of


class Console:
    """One console user: type, press by label, send a photo."""

    def __init__(self, app: Runtime, user: str) -> None:
        self.app, self.user, self.buttons, self.text = app, user, {}, ""  # type: ignore[var-annotated]

    async def _send(self, msg: IncomingMessage) -> str:
        outcome = await self.app.dispatcher.handle(msg)
        self.replies = outcome.replies
        self.text = all_text(outcome.replies)
        self.buttons = {b.label: b.action for b in buttons_of(outcome.replies)}
        return self.text

    async def say(self, text: str) -> str:
        return await self._send(IncomingMessage.from_text("console", self.user, text))

    async def press(self, label: str) -> str:
        assert label in self.buttons, f"no {label!r} in {list(self.buttons)}\n{self.text}"
        return await self._send(IncomingMessage(channel="console", user_id=self.user, kind=MessageKind.ACTION,
                                                text=label, action=self.buttons[label]))

    async def photo(self, path: Path) -> str:
        return await self._send(photo_message(self.user, str(path)))


@pytest.fixture
def chat_app(sqlite_app: Runtime, tmp_path: Path) -> Iterator[Runtime]:
    yield use_certificates(sqlite_app, store=MediaStore(tmp_path / "media"), signer=None, ocr=None)


async def _console(app: Runtime, user: str, lang: str = "zh-TW") -> Console:
    async with app.sessions.begin() as s:
        account = await bind_console_account(s, user, lang=lang, now=app.clock.now())
        account.lang = lang
    return Console(app, user)


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_typed_answers_scores_and_withdrawing(chat_app: Runtime, tmp_path: Path) -> None:
    me = await _console(chat_app, "T0001")
    assert "哪一種證書" in await me.photo(_file(tmp_path, "c.heic", images.encoded("HEIF")))
    assert "哪一種測驗" in await me.say("英語")
    assert "聽力＋閱讀總分" in await me.say("多益四技")
    assert "範圍" in await me.say("1200")
    assert "口說＋寫作總分" in await me.say("８００")
    assert "數字" in await me.say("很多分")
    assert "發證日期" in await me.say("250")
    assert "看不懂這個日期" in await me.say("上個月")
    checked = await me.say("113年2月1日")
    assert "多益四技 TOEIC 4 skills 800/250" in checked and "符合「中級」嘉獎2次" in checked  # S+W 250 ≥ B1 240
    assert "待審核" in await me.say("送出申請")  # typed at a confirmation card: presses it
    assert "待審核" in await me.say("我的申請")
    await me.press("撤回 #1")
    assert "已撤回" in await me.press("確定撤回")
    assert "已撤回" in await me.say("我的申請") and "撤回 #1" not in me.buttons


async def test_hakka_counts_from_the_mailing_date_and_refusals_offer_a_redo(chat_app: Runtime, tmp_path: Path) -> None:
    me = await _console(chat_app, "T0001")
    await me.photo(_file(tmp_path, "h.png", images.encoded("PNG")))
    assert "通過哪一級" in await me.press("客語認證")  # one Hakka test: asked the level at once
    assert "寄發日期" in await me.press("中高級")
    late = await me.say("112/12/31")  # 2 months → 113/2/29; today is 113/3/1
    assert "申請期限已於 113年2月29日 截止" in late
    assert "寄發日期 113年1月1日" not in late and "重新填寫" in me.buttons
    await me.press("重新填寫")
    await me.press("客語認證")
    await me.press("中高級")
    assert "符合「中高級」記功1次" in await me.say("113/1/1")
    assert "已取消" in await me.press("取消")


async def test_a_command_typed_in_the_wizard_leaves_it(chat_app: Runtime, tmp_path: Path) -> None:
    me = await _console(chat_app, "T0001")
    await me.photo(_file(tmp_path, "c.jpg", images.jpeg_with_gps()))
    assert "小時" in await me.say("我還差幾小時")


async def test_review_with_a_typed_reason_and_another_agencys_officer(chat_app: Runtime, tmp_path: Path) -> None:
    me = await _console(chat_app, "T0001")
    await me.photo(_file(tmp_path, "c.jpg", images.jpeg_with_gps()))
    for label in ("英語檢定", "劍橋英語 Cambridge English", "B2 First (FCE)"):
        await me.press(label)
    assert "符合「中高級」記功1次" in await me.say("113/2/20")
    await me.press("送出申請")

    await _grant(chat_app, "T0003", "agency_hr", "桃園市政府環境保護局")
    elsewhere = await _console(chat_app, "T0003")
    assert "目前沒有待審核" in await elsewhere.say("審核證書")
    nobody = await _console(chat_app, "T0002")
    assert "只有人事人員" in await nobody.say("審核證書")

    hr = await _console(chat_app, "T0005")
    await hr.say("審核證書")
    shown = await hr.press("審核")
    [reply] = hr.replies
    assert reply.image is not None and reply.image.url is None  # no signer here: no link, the local file
    assert reply.image.path is not None and reply.image.path.startswith(str(tmp_path / "media"))
    assert "沒有連結" in shown or "無法提供連結" in shown
    assert f"🖼 {reply.image.path}" in render_text(hr.replies, "")  # what the console prints
    await hr.press("退回")
    assert "已退回" in await hr.say("  證書上的姓名與本人不同  ")
    assert "證書上的姓名與本人不同" in await me.say("我的申請") and "已退回" in me.text


async def test_english_and_an_unlinked_photo(chat_app: Runtime, tmp_path: Path) -> None:
    me = await _console(chat_app, "T0001", lang="en")
    assert "What kind of certificate" in await me.photo(_file(tmp_path, "c.jpg", images.jpeg_with_gps()))
    await me.press("English test")
    await me.press("IELTS")
    await me.say("6.5")
    assert "This qualifies as high-intermediate (B2): one merit citation" in await me.say("2024-02-01")
    before = sorted(chat_app.app.certificates.store.root.rglob("*.jpg"))
    stranger = Console(chat_app, "nobody-here")  # a console user bound to no employee
    assert "先綁定員工帳號" in await stranger.photo(_file(tmp_path, "d.png", images.encoded("PNG", (900, 700))))
    assert sorted(chat_app.app.certificates.store.root.rglob("*.jpg")) == before  # nothing kept
    assert "could not be received" in await me.photo(tmp_path / "no-such-file.jpg")


async def test_words_people_type_in_the_wizard(chat_app: Runtime, tmp_path: Path) -> None:
    # found by trying it as an employee: 英檢 / a test's own name / 號 / 送出 each repeated the question
    me = await _console(chat_app, "T0001")
    await me.photo(_file(tmp_path, "g.jpg", images.encoded("JPEG")))
    assert "哪一種測驗" in await me.say("英檢")
    await me.photo(_file(tmp_path, "g2.jpg", images.encoded("JPEG")))   # a new photo: the question again
    assert "通過哪一級" in await me.say("我考的是全民英檢")             # the test at once: its level next
    assert "發證日期" in await me.say("中級")
    assert "符合「中級」" in await me.say("113年2月5號")
    again = await me.say("麻煩幫我處理")                                  # not an answer: the same card again
    assert "請按下方的按鈕回答" in again and {"送出申請", "取消"} <= set(me.buttons)
    assert "待審核" in await me.say("送出")


async def test_a_three_digit_score_typed_in_the_console_is_a_score_not_a_button(chat_app: Runtime) -> None:
    from bot.channels.console import ConsoleChat

    chat = ConsoleChat(chat_app, "T0001")
    assert isinstance(chat._message("785"), IncomingMessage)              # 多益 785: an answer, not button 785
    assert chat._message("7") == "7"                                      # one digit: a mistyped button number
