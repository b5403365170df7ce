"""Typed button payloads and neutral replies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.conversation import (
    MAX_PAYLOAD_BYTES,
    Action,
    Card,
    Choice,
    IncomingMessage,
    PayloadError,
    Reply,
)
from handlers.common import SetLang, ShowItem, ShowTracks
from handlers.search import MoreResults
from handlers.substitute import ConfirmSubstitute


@pytest.mark.parametrize("action", [
    ShowTracks(),
    ShowItem("A2-5-1"),
    MoreResults(10, "a1b2c3d4"),
    SetLang("zh-TW"),
    ConfirmSubstitute(12, 345),
])
def test_pack_unpack_round_trip(action: Action) -> None:
    packed = action.pack()
    assert len(packed.encode()) <= MAX_PAYLOAD_BYTES
    assert Action.unpack(packed) == action


@pytest.mark.parametrize("data", [
    "", "zz|1", "i", "i|a|b", "m|extra", "x" * 65, "i|" + "長" * 30, "\x00", "i|A1\u202e",
    "sb|12", "sb|12|x", "sb|-1|2", "sb|+1|2", "sb|01|2", "sb| 1|2",
])
def test_bad_payloads_are_rejected(data: str) -> None:
    if data == "i|A1\u202e":
        # Odd Unicode is carried as an argument; the handler decides it is unknown (stale).
        assert Action.unpack(data) == ShowItem("A1\u202e")
        return
    with pytest.raises(PayloadError):
        Action.unpack(data)


def test_an_action_longer_than_64_bytes_cannot_be_built() -> None:
    with pytest.raises(PayloadError):
        ShowItem("課" * 30)


def test_separator_inside_an_argument_is_refused() -> None:
    with pytest.raises(PayloadError):
        ShowItem("a|b")


def test_forged_payload_becomes_a_flagged_message() -> None:
    msg = IncomingMessage.from_payload("line", "U1", "rm -rf|/")
    assert msg.bad_payload and msg.action is None


def test_reply_json_round_trip() -> None:
    reply = Reply.card_list("標題", [Card("課", "副", "內文", (Choice("看", ShowItem("B1-3-1")),))],
                            [Choice("更多", MoreResults(5, "a1b2c3d4"))])
    d = reply.to_dict()
    assert d["type"] == "cards" and d["choices"][0]["label"] == "更多"
    assert Reply.from_dict(d) == reply


def test_reply_from_unknown_type_fails() -> None:
    with pytest.raises(ValueError, match="unknown reply type"):
        Reply.from_dict({"type": "video", "text": "x"})


def test_payload_fields_are_typed_and_kinds_unique() -> None:
    assert Action.unpack("sb|12|345") == ConfirmSubstitute(12, 345)
    assert Action.unpack("sb|12|345").enrollment_id == 12  # type: ignore[attr-defined]
    with pytest.raises(PayloadError):
        ConfirmSubstitute(-1, 2)
    with pytest.raises(TypeError, match="taken"):
        @dataclass(frozen=True)
        class Clash(Action, kind="i"):
            other: str
