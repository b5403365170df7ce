"""A whole conversation on Telegram through the webhook, the real PTB and the fake Bot API (both databases)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models.core import ChannelAccount
from tests.conftest import issue_code
from tests.dialog import Press, Say
from tests.telegram import updates as up
from tests.telegram.conftest import Harness
from tests.telegram.dialog import TgDialog


async def account(tg: Harness, uid: int) -> ChannelAccount | None:
    async with tg.app.sessions() as s:
        query = select(ChannelAccount).where(ChannelAccount.channel == "telegram",
                                             ChannelAccount.external_id == str(uid))
        return (await s.execute(query)).scalar_one_or_none()


async def test_bind_by_link_then_browse_search_enroll_cancel_and_hours(tg: Harness) -> None:
    code = await issue_code(tg.app, "T0001")
    user = TgDialog(tg, 2001)
    await user.play([
        Say("/start", shows=["育才ABC學習小幫手", "請先綁定員工帳號"]),
        Say(f"/start bind_{code.replace('-', '')}", shows=["綁定碼已經帶入", "員工編號"]),
        Say("T0001", shows=["綁定完成"]),
        Say("課程", buttons=["A｜打磨必備職能", "B｜智慧創新素養"]),
        Press("A｜打磨必備職能", buttons=["專業職能訓練"]),
        Press("專業職能訓練", shows=["新進人員專班"]),
        Say("python", shows=["零基礎 Python 入門班"]),
        Press("看介紹", buttons=["開課班期"]),
        Press("開課班期", shows=["第1期（範例）"]),
        Press("報名這班", shows=["請確認報名"], buttons=["確認報名", "先不要"]),
        Press("確認報名", shows=["報名成功！"]),
        Say("取消報名", shows=["請選擇要取消的報名"]),
        Press("取消報名", shows=["確定要取消"]),
        Press("確定取消", shows=["已取消"]),
        Say("時數", shows=["小時"]),
    ])
    row = await account(tg, 2001)
    assert row is not None and row.employee_id is not None and row.lang == "zh-TW"


async def test_language_comes_from_language_code_at_first_contact_only(tg: Harness) -> None:
    english = TgDialog(tg, 2002, lang="en-US")
    await english.play([Say("/start", shows=["ABC"], hides=["育才"])])
    row = await account(tg, 2002)
    assert row is not None and row.lang == "en"
    await english.play([Say("中文", shows=["中文"])])  # chosen later: kept, whatever the app reports
    await english.play([Say("/start", shows=["育才"])])


async def test_search_paging_edits_the_list_in_place(tg: Harness) -> None:
    user = TgDialog(tg, 2003)
    calls = await user.step(Say("AI", shows=["第 1–5 筆"], buttons=["更多結果"]))
    [listing] = [c for c in calls if c.method == "sendMessage"]
    calls = await user.step(Press("更多結果", shows=["第 6–"]))
    [edit] = [c for c in calls if c.method == "editMessageText"]
    assert edit.params["message_id"] == listing.message_id
    assert not [c for c in calls if c.method == "sendMessage"]


async def test_a_stale_button_is_answered_with_a_short_notice(tg: Harness) -> None:
    before = len(tg.fake.calls)
    assert await tg.post(up.callback(2004, "zz|garbage")) == 200
    [answer] = [c for c in tg.new_calls(before) if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == "這個按鈕已經失效了"
    assert any("失效" in c.text for c in tg.new_calls(before) if c.method == "sendMessage")


async def test_menu_commands_with_the_bots_name_and_other_start_payloads(tg: Harness) -> None:
    user = TgDialog(tg, 2005)
    await user.play([
        Say("/courses@abc_learning_bot", buttons=["A｜打磨必備職能"]),
        Say("/start from_poster", shows=["育才ABC學習小幫手"]),
        Say("/start bind_!!", shows=["育才ABC學習小幫手"]),  # not a code: the welcome
        Say("/en", shows=["English"]),
    ])


async def test_a_binding_link_for_someone_else_or_spent_binds_nothing(tg: Harness) -> None:
    code = (await issue_code(tg.app, "T0003")).replace("-", "")
    user = TgDialog(tg, 2006)
    await user.play([
        Say(f"/start bind_{code}", shows=["綁定碼已經帶入"]),
        Say("T0001", shows=["員工編號或綁定碼不正確"]),  # the code is T0003's: the number decides nothing alone
        Say("T0003", shows=["請輸入"], hides=["綁定完成"]),  # the link's code is gone: the usual flow asks for it
    ])
    row = await account(tg, 2006)
    assert row is not None and row.employee_id is None
    assert "K7PM" not in str(row.state_data) and code not in str(row.state_data)  # the code is not kept after
    other = TgDialog(tg, 2007)
    await other.play([Say(f"/start bind_{code}"), Say("T0003", shows=["綁定完成"]),
                      Say(f"/start bind_{code}", shows=["已綁定為"])])
