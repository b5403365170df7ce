"""Typed button payloads and neutral replies."""

from __future__ import annotations

import pytest

from bot.conversation import (
    MAX_PAYLOAD_BYTES,
    Action,
    ActionKind,
    Card,
    Choice,
    IncomingMessage,
    PayloadError,
    Reply,
)


@pytest.mark.parametrize("action", [
    Action(ActionKind.MENU),
    Action(ActionKind.ITEM, ("A2-5-1",)),
    Action(ActionKind.MORE, ("10", "a1b2c3d4")),
    Action(ActionKind.LANG, ("zh-TW",)),
])
def test_pack_unpack_round_trip(action: Action) -> None:
    packed = action.pack()
    assert len(packed.encode()) <= MAX_PAYLOAD_BYTES
    assert Action.unpack(packed) == action


@pytest.mark.parametrize("data", [
    "", "zz|1", "i", "i|a|b", "m|extra", "x" * 65, "i|" + "長" * 30, "\x00", "i|A1\u202e",
])
def test_bad_payloads_are_rejected(data: str) -> None:
    if data == "i|A1\u202e":
        # Odd Unicode is carried as an argument; the handler decides it is unknown (stale).
        assert Action.unpack(data).arg == "A1\u202e"
        return
    with pytest.raises(PayloadError):
        Action.unpack(data)


def test_an_action_longer_than_64_bytes_cannot_be_built() -> None:
    with pytest.raises(PayloadError):
        Action(ActionKind.ITEM, ("課" * 30,))


def test_separator_inside_an_argument_is_refused() -> None:
    with pytest.raises(PayloadError):
        Action(ActionKind.ITEM, ("a|b",))


def test_forged_payload_becomes_a_flagged_message() -> None:
    msg = IncomingMessage.from_payload("line", "U1", "rm -rf|/")
    assert msg.bad_payload and msg.action is None


def test_reply_json_round_trip() -> None:
    reply = Reply.card_list("標題", [Card("課", "副", "內文", (Choice("看", Action(ActionKind.ITEM, ("B1-3-1",))),))],
                            [Choice("更多", Action(ActionKind.MORE, ("5", "a1b2c3d4")))])
    d = reply.to_dict()
    assert d["type"] == "cards" and d["choices"][0]["label"] == "更多"
    assert Reply.from_dict(d) == reply


def test_reply_from_unknown_type_fails() -> None:
    with pytest.raises(ValueError, match="unknown reply type"):
        Reply.from_dict({"type": "video", "text": "x"})
