"""Rendering neutral replies for LINE: limits, splitting, and validity against LINE's spec and the SDK."""

from __future__ import annotations

from pathlib import Path

import pytest
from linebot.v3.messaging import Message

from bot.channels.line_render import fit, render, split_text, utf16_len
from bot.conversation import Card, Choice, ImageRef, LinkButton, Reply
from handlers.common import ShowHelp, ShowItem
from handlers.enroll import ConfirmEnroll
from handlers.search import MoreResults
from tests.line.spec import message_problems

SPEC = "fixtures/line/messaging-api.yml"
LONG_TITLE = "數位轉型與人工智慧應用於公共治理之跨域協作實務工作坊（進階班）"


def item(i: int) -> Choice:
    return Choice(f"{LONG_TITLE}{i}", ShowItem(f"A1-{i}"))


def test_fit_cuts_by_utf16_units_and_marks_the_cut() -> None:
    assert fit("短", 20) == "短"
    cut = fit(LONG_TITLE, 20)
    assert utf16_len(cut) <= 20 and cut.endswith("…") and LONG_TITLE.startswith(cut[:-1])
    assert utf16_len(fit("😀" * 30, 20)) <= 20  # emoji count two units each
    assert fit("", 20) == "-"


def test_long_text_splits_at_line_breaks_without_losing_text() -> None:
    paragraph = "第一行說明文字。" * 40
    text = "\n".join([paragraph] * 30)
    pieces = split_text(text, 5000)
    assert len(pieces) > 1 and all(utf16_len(p) <= 5000 for p in pieces)
    assert all(p.endswith("。") for p in pieces)  # cut at a line break, not mid-sentence
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_quick_replies_sit_on_the_last_message_with_short_labels_and_full_display_text() -> None:
    choices = [item(i) for i in range(5)]
    messages = render([Reply.plain("選一個"), Reply.plain("還是這些", choices)])
    assert [m["type"] for m in messages] == ["text", "text"]
    assert "quickReply" not in messages[0]
    actions = [i["action"] for i in messages[1]["quickReply"]["items"]]
    assert all(utf16_len(a["label"]) <= 20 for a in actions)
    assert actions[0]["displayText"] == f"{LONG_TITLE}0" and actions[0]["data"] == "i|A1-0"


def test_earlier_choices_move_to_the_end_when_later_replies_have_none() -> None:
    messages = render([Reply.plain("a", [item(1)]), Reply.plain("b")])
    assert "quickReply" not in messages[0] and messages[1]["quickReply"]["items"][0]["action"]["data"] == "i|A1-1"


def test_more_than_thirteen_choices_become_button_bubbles() -> None:
    messages = render([Reply.plain("系列課程", [item(i) for i in range(20)])])
    assert messages[0]["type"] == "text" and "quickReply" not in messages[0]
    buttons = [c for m in messages[1:] for b in m["contents"]["contents"] for c in b["body"]["contents"]]
    assert [b["action"]["data"] for b in buttons] == [f"i|A1-{i}" for i in range(20)]


def test_cards_become_carousels_of_at_most_twelve_bubbles() -> None:
    cards = [Card(LONG_TITLE, "課程｜A 打磨必備職能", "說明" * 300, (item(i),)) for i in range(14)]
    more = Choice("更多結果", MoreResults(5, "a1b2c3d4"))
    messages = render([Reply.card_list("找到 14 筆", cards, [more])])
    assert [m["type"] for m in messages] == ["text", "flex", "flex"]
    assert [len(m["contents"]["contents"]) for m in messages[1:]] == [12, 2]
    assert messages[-1]["quickReply"]["items"][0]["action"]["data"] == "mo|5|a1b2c3d4"
    assert LONG_TITLE in messages[1]["altText"]


def test_confirm_is_a_card_with_two_buttons() -> None:
    yes = Choice("確定報名", ConfirmEnroll(17))
    no = Choice("先不要", ShowHelp())
    [message] = render([Reply.confirm("要報名「" + LONG_TITLE + "」嗎？", yes, no)])
    footer = message["contents"]["footer"]["contents"]
    assert [b["action"]["data"] for b in footer] == ["ey|17", "h"] and footer[0]["style"] == "primary"


@pytest.mark.parametrize("replies", [
    [Reply.plain("說明\n" * 3000, [item(i) for i in range(13)])],
    [Reply.plain("x", [item(i) for i in range(30)])],
    [Reply.card_list("header", [Card(LONG_TITLE * 3, LONG_TITLE, "body", (item(1), item(2)))] * 12, [item(3)])],
    [Reply.confirm("確認？" * 800, item(1), item(2))],
    [Reply.plain("a"), Reply.plain("b"), Reply.card_list("c", [Card("t")]), Reply.plain("d", [item(1)])],
    [Reply("text", "photo", (item(1),), image=ImageRef("https://bot.example.tw/media/claims/1/full/1/s.jpg",
                                                       "https://bot.example.tw/media/claims/1/preview/1/s.jpg"))],
    [Reply("text", "新班開放報名", (item(1),), image=ImageRef("https://h/a.jpg", "https://h/p.jpg"),
           links=(LinkButton("報名網頁", "https://elearn.example.tw/class/1"),))],
    [Reply("text", "說明\n" * 1500, links=(LinkButton("x" * 30, "https://h/" + "a" * 900),))],
], ids=["long-text", "many-choices", "cards", "confirm", "mixed", "image", "link-image", "long-link"])
def test_everything_rendered_is_valid_for_line_and_readable_by_the_sdk(replies: list[Reply], shared_dir: Path) -> None:
    messages = render(replies)
    assert message_problems(shared_dir / SPEC, messages) == []
    for message in messages:
        parsed = Message.from_dict(message)  # the SDK's own models accept what we send
        assert parsed.to_dict()["type"] == message["type"]


def test_a_picture_follows_its_text_only_with_https_links() -> None:
    https = ImageRef("https://h/a.jpg", "https://h/p.jpg", "/var/media/a.jpg")
    text, image = render([Reply("text", "see below", (item(1),), image=https)])
    assert text["type"] == "text" and "quickReply" not in text
    assert image == {"type": "image", "originalContentUrl": "https://h/a.jpg", "previewImageUrl": "https://h/p.jpg",
                     "quickReply": image["quickReply"]}
    assert render([Reply("text", "x", image=ImageRef("http://h/a.jpg", "http://h/p.jpg"))]) == [
        {"type": "text", "text": "x"}]  # LINE takes HTTPS only; the local path never leaves the server
    assert Reply.from_dict(Reply("text", "x", image=https).to_dict()).image == https


def test_a_link_button_is_a_uri_action_in_one_bubble_with_the_text() -> None:
    link = LinkButton("報名網頁", "https://elearn.example.tw/class/1?from=line")
    [card] = render([Reply("text", "新班開放報名\n請把握時間", (item(1),), links=(link,))])
    assert card["type"] == "flex" and card["altText"] == "新班開放報名\n請把握時間"
    assert card["contents"]["body"]["contents"][0]["text"] == "新班開放報名\n請把握時間"
    [button] = card["contents"]["footer"]["contents"]
    assert button["action"] == {"type": "uri", "label": "報名網頁", "uri": link.url}
    assert card["quickReply"]["items"][0]["action"]["data"] == "i|A1-1"  # the choices stay quick replies
    assert Reply.from_dict(Reply("text", "x", links=(link,)).to_dict()).links == (link,)


def test_a_text_too_long_for_a_bubble_keeps_every_word_and_puts_the_button_after_it() -> None:
    text = "第一段說明文字。" * 400  # 3,200 units: more than a bubble is given
    messages = render([Reply("text", text, links=(LinkButton("查看詳情", "https://h/x"),))])
    assert [m["type"] for m in messages] == ["text", "flex"]
    assert messages[0]["text"] == text
    assert messages[1]["contents"]["footer"]["contents"][0]["action"]["uri"] == "https://h/x"


def test_a_link_longer_than_line_takes_is_refused_not_cut() -> None:
    with pytest.raises(ValueError, match="1000"):
        render([Reply("text", "x", links=(LinkButton("a", "https://h/" + "a" * 1000),))])
    with pytest.raises(ValueError, match="https"):
        LinkButton("a", "http://h/")


def test_the_spec_check_catches_what_line_would_refuse(shared_dir: Path) -> None:
    bad = [{"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "postback", "label": "x" * 21, "data": "h"}}]}},
        {"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": {
            "type": "box", "layout": "diagonal", "contents": []}}},
        {"type": "txt", "text": "x"}]
    found = message_problems(shared_dir / SPEC, bad)
    assert len(found) == 3, found
