"""Replies in Telegram's idiom: escaping, 4096-character pieces, keyboards, card lists, callback data ≤ 64 bytes."""

from __future__ import annotations

import dataclasses
import html

import pytest

import handlers  # noqa: F401  (declares every button payload)
from bot.channels.telegram_render import MAX_TEXT, render
from bot.conversation import Action, Card, Choice, ImageRef, LinkButton, Reply
from handlers.common import ShowHelp, ShowItem
from handlers.search import MoreResults


def test_everything_a_handler_wrote_is_escaped() -> None:
    [message] = render([Reply.plain("<b>粗體</b> & <script>", [Choice("a<b", ShowHelp())])])
    assert message.text == "&lt;b&gt;粗體&lt;/b&gt; &amp; &lt;script&gt;"
    assert message.keyboard == ((("a<b", "h"),),)  # labels are plain text for Telegram, not HTML


def test_long_text_is_split_below_4096_with_the_keyboard_under_the_last_piece() -> None:
    text = "\n\n".join(f"第{n}段 " + "字" * 900 for n in range(10))
    messages = render([Reply.plain(text, [Choice("選單", ShowHelp())])])
    assert len(messages) >= 3
    assert all(len(html.unescape(m.text)) <= MAX_TEXT for m in messages)
    assert [bool(m.keyboard) for m in messages] == [False] * (len(messages) - 1) + [True]
    assert "".join(html.unescape(m.text) for m in messages).replace("\n", "") == text.replace("\n", "")


def test_a_card_list_is_one_message_with_numbered_cards_and_their_buttons() -> None:
    cards = [Card(f"課程{n} <{n}>", "A-1", "說明", (Choice("看介紹", ShowItem(f"A1-{n}")),)) for n in range(1, 4)]
    [message] = render([Reply.card_list("找到 3 門課", cards, [Choice("更多結果", MoreResults(5, "abcd1234")),
                                                              Choice("回主選單", ShowHelp())])])
    assert message.text.startswith("找到 3 門課\n\n1. <b>課程1 &lt;1&gt;</b>\nA-1\n說明")
    labels = [b[0] for row in message.keyboard for b in row]
    assert labels == ["1. 看介紹", "2. 看介紹", "3. 看介紹", "更多結果", "回主選單"]
    assert message.keyboard[-1] == (("更多結果", "mo|5|abcd1234"), ("回主選單", "h"))


def test_a_confirmation_card_has_its_two_answers_side_by_side() -> None:
    [message] = render([Reply.confirm("確定要報名嗎？", Choice("確認報名", ShowHelp()), Choice("先不要", ShowHelp()))])
    assert len(message.keyboard) == 1 and [b[0] for b in message.keyboard[0]] == ["確認報名", "先不要"]
    three = (Choice("確認發布", ShowHelp()), Choice("改為選擇性公告", ShowHelp()), Choice("先不要", ShowHelp()))
    [message] = render([Reply("confirm", "發布前確認", three)])
    assert [[b[0] for b in row] for row in message.keyboard] == [["確認發布", "改為選擇性公告"], ["先不要"]]


def test_many_cards_overflow_into_more_messages_below_the_limit() -> None:
    cards = [Card("課" * 200, "", "說" * 300, ()) for _ in range(12)]
    messages = render([Reply.card_list("標題", cards)])
    assert len(messages) > 1 and all(len(html.unescape(m.text)) <= MAX_TEXT for m in messages)


def _longest(cls: type[Action]) -> Action:
    values = [10 ** 17 if f.type in (int, "int") else "字" * 64 for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    while True:  # the longest payload of this kind that the kind accepts
        try:
            return cls(*values)
        except ValueError:
            values = [v[:-1] if isinstance(v, str) and v else v // 10 if isinstance(v, int) and v else v
                      for v in values]


@pytest.mark.parametrize("kind", sorted(Action._kinds))
def test_every_button_payload_fits_telegram_callback_data(kind: str) -> None:
    action = _longest(Action._kinds[kind])
    [message] = render([Reply.plain("x", [Choice("b", action)])])
    data = message.keyboard[0][0][1]
    assert len(data.encode()) <= 64 and Action.unpack(data) == action


def test_link_buttons_are_url_buttons_and_an_https_picture_a_photo_after_the_text() -> None:
    reply = Reply("text", "新班 <開放>", (Choice("不再接收", ShowHelp()),),
                  image=ImageRef("https://h/a.jpg", "https://h/p.jpg", "/var/x.jpg"),
                  links=(LinkButton("報名  網頁", "https://h/class?a=1&b=2"),))
    text, photo = render([reply])
    assert text.text == "新班 &lt;開放&gt;" and text.links == (("報名 網頁", "https://h/class?a=1&b=2"),)
    assert text.keyboard == ((("不再接收", "h"),),) and text.photo is None
    assert photo.photo == "https://h/a.jpg" and photo.text == "" and not photo.keyboard
    assert render([Reply("text", "x", image=ImageRef(path="/var/x.jpg"))]) == [render([Reply.plain("x")])[0]]
