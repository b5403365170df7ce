"""Enrolling in chat, as dialog tables (SQLite; the data layer runs on both databases elsewhere).

The demo data is loaded with the clock at 113-03-01 10:00: DEMO-PY-01 meets 3/15 and 3/22 (registration
until 3/8 17:00), DEMO-TM-01 (2 seats: T0001, T0003; T0002 waits) meets 3/11, DEMO-GE-01 overlaps
DEMO-PY-01's first morning, DEMO-GOV-01 is for 簡任 only, DEMO-AI-00 was held on 2/10.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.conversation import Action, IncomingMessage, MessageKind
from bot.db.models.classes import TrainingClass
from handlers.enroll import ConfirmEnroll, ShowClass
from handlers.my_enrollments import AskCancel
from tests.classes.conftest import add_classes, add_people, class_id, enroll_as, outbox_texts, seats, spec
from tests.dialog import Press, Say, all_text, run_dialog


async def press(app: Runtime, user: str, action: Action) -> str:
    await run_dialog(app, user, [])  # binds the console user to that employee, as `abc-bot chat` does
    outcome = await app.dispatcher.handle(IncomingMessage(channel="console", user_id=user, kind=MessageKind.ACTION,
                                                          action=action))
    return all_text(outcome.replies)


async def test_find_enroll_see_cancel_and_the_waitlisted_colleague_is_promoted(sqlite_app: Runtime) -> None:
    app = sqlite_app
    await run_dialog(app, "T0001", [
        Say("python", intent="search", shows=["零基礎 Python 入門班"]),
        Press("看介紹", intent="course", buttons=["開課班期"]),
        Press("開課班期", intent="enroll", shows=["第1期（範例）", "113年3月15日（五）09:00–12:00", "尚餘 30 位",
                                                "113年3月8日 17:00 截止", "第2期", "113年3月11日 00:00 開放報名"]),
        Press("報名這班", intent="enroll", shows=["請確認報名", "公假", "職務代理人", "1/3",
                                                "https://www.example.org/abc-demo/materials/python-101"],
              buttons=["確認報名", "先不要"]),
        Press("確認報名", intent="enroll", shows=["報名成功！", "113年3月8日 17:00 前"]),
        Say("我的報名", intent="my_enrollments",
            shows=["即將上課 2 班、已結束 1 筆", "零基礎 Python 入門班｜第1期（範例）", "我要成為時間管理大師",
                   "已參訓，時數已登錄 3 小時"]),
        Say("取消報名", intent="cancel_enrollment", shows=["請選擇要取消的報名"]),
        Press("取消報名", intent="cancel_enrollment", shows=["確定要取消「我要成為時間管理大師"]),
        Press("確定取消", intent="cancel_enrollment", shows=["已取消「我要成為時間管理大師", "候補同仁遞補"]),
    ])
    notices = await outbox_texts(app, "class-promoted:")
    assert len(notices) == 1 and notices[0][0].endswith(":console")
    assert "好消息！" in notices[0][1] and "我要成為時間管理大師" in notices[0][1] and "113年3月11日" in notices[0][1]
    await run_dialog(app, "T0002", [
        Say("我的報名", intent="my_enrollments", shows=["我要成為時間管理大師", "已報名"], hides=["候補第"]),
    ])


async def test_refusals_say_why_in_one_sentence(sqlite_app: Runtime) -> None:
    # The cards say where the user stands (issue 10): no 報名這班 where it can only be refused.
    await run_dialog(sqlite_app, "T0001", [
        Say("報名 公共治理", intent="enroll",
            shows=["與「公共治理」相關", "高階人員公共治理班", "本府簡任人員（範例）",
                   "您的狀態：不符資格（這個班期僅限簡任人員報名（您的官等／人員類別：薦任）。）"],
            hides=["報名這班"]),
        Say("報名 python", intent="enroll", shows=["您可以報名這班"]),
        Press("報名這班"),
        Press("確認報名", shows=["報名成功"]),
        Say("報名 python", intent="enroll", shows=["您的狀態：已報名"], hides=["報名這班"], buttons=["我的報名"]),
        Say("報名 性別平等", intent="enroll", shows=[
            "性別平等｜專題演講（範例）",
            "與您已報名的「零基礎 Python 入門班｜第1期（範例）」（113年3月15日（五））時間重疊"]),
        Say("報名 時間管理", intent="enroll", shows=["已額滿（候補 1 人）", "您的狀態：已報名"], hides=["報名這班"]),
    ])
    await run_dialog(sqlite_app, "T0004", [
        Say("報名 時間管理", intent="enroll", shows=["已額滿（可候補）"], hides=["報名這班"]),
        Press("候補這班", shows=["目前已額滿；確認後將列入候補第 2 位"], buttons=["加入候補"]),
        Press("加入候補", shows=["已為您登記候補第 2 位"]),
        Say("報名 時間管理", intent="enroll", shows=["您的狀態：候補第 2 位"], hides=["候補這班"]),
        Say("我的報名", shows=["候補第 2 位"]),
    ])


async def test_old_buttons_get_the_current_answer(sqlite_app: Runtime, clock: FrozenClock) -> None:
    app = sqlite_app
    await add_classes(app, spec("T-LAST", course="A2-6-2", capacity=1))
    await run_dialog(app, "T0004", [
        Say("報名 說話高手", intent="enroll", shows=["名額 1 人，尚餘 1 位"]),
        Press("報名這班", shows=["目前尚餘 1 位名額"]),
    ])
    cid = await class_id(app, "T-LAST")
    (someone,) = await add_people(app, 1)
    assert (await enroll_as(app, cid, someone)).outcome == "enrolled"        # the last seat went meanwhile
    confirm = ConfirmEnroll(cid)
    assert "此班期已額滿，已為您登記候補第 1 位" in await press(app, "T0004", confirm)
    clock.set(datetime(2024, 3, 10, 17, 0, tzinfo=TAIPEI))                   # the window closes at this second
    late = await press(app, "T0005", confirm)
    assert "這個班期的報名已於 113年3月10日 17:00 截止。" in late
    clock.set(datetime(2024, 3, 2, 9, 0, tzinfo=TAIPEI))
    await add_classes(app, spec("T-LAST", course="A2-6-2", capacity=1, status="cancelled"))
    assert "這個班期已經取消" in await press(app, "T0005", ShowClass(cid))
    await run_dialog(app, "T0004", [Say("我的報名", shows=["說話高手養成班", "班期已取消"], hides=["候補第"])])
    assert "這個班期或報名已經不存在" in await press(app, "T0005", ConfirmEnroll(999999))
    assert "這個班期或報名已經不存在" in await press(app, "T0005", AskCancel(1))  # not theirs
    assert (await seats(app, cid)).taken == 0


async def test_lists_need_no_account_but_enrolling_does(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "U-stranger", [
        Say("報名 python", intent="enroll", shows=["零基礎 Python 入門班｜第1期（範例）"]),
        Press("報名這班", intent="enroll", shows=["請先綁定員工帳號"], hides=["身分證", "密碼"]),
        Say("我的報名", intent="my_enrollments", shows=["請先綁定員工帳號"]),
    ], channel="line")
    await run_dialog(sqlite_app, "T0001", [
        Say("報名", intent="enroll", shows=["目前開放報名的班期", "零基礎 Python 入門班｜第1期（範例）",
                                           "高階人員公共治理班"], hides=["第2期", "已結訓"]),
        Say("報名 颱風假", intent="enroll", shows=["找不到與「颱風假」相關的課程"]),
        Say("報名 3D列印", intent="enroll", shows=["目前沒有即將開課的班期"], buttons=["看介紹"]),
        Say("報名 python"),
        Press("報名這班"),
        Press("先不要", intent="enroll", shows=["好的，這次先不報名。"]),
        Say("取消報名", intent="cancel_enrollment", shows=["確定要取消「我要成為時間管理大師"]),   # only one to cancel
        Press("保留報名", intent="cancel_enrollment", shows=["好的，保留您的報名。"]),
    ])


async def test_past_classes_show_attendance_and_hours(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0005", [
        Say("我的報名", intent="my_enrollments",
            shows=["ChatGPT Prompt 詠唱技巧班", "已參訓，未登錄時數：請假超過課程時數的規定比例"], hides=["取消報名"]),
    ])


async def test_agency_hr_names_a_substitute_in_chat(sqlite_app: Runtime) -> None:
    app = sqlite_app
    await run_dialog(app, "T0001", [
        Say("遞補 DEMO-TM-01 T0001 T0002", intent="enroll", shows=["機關人事人員的功能"]),
    ])
    await run_dialog(app, "T0005", [  # agency HR of 桃園市政府人事處 in the demo data
        Say("遞補", intent="enroll", shows=["請輸入：遞補 班期代碼"]),
        Say("遞補 DEMO-TM-01 T0003 T0006", shows=["您只能為自己機關的同仁安排遞補"]),
        Say("遞補 DEMO-TM-01 T0001 T0004", shows=["不是桃園市政府人事處的同仁"]),
        Say("遞補 DEMO-TM-01 T0001 T0002",
            shows=["中 示範員工甲（範例）（T0001） 的名額改由 示範員工乙（範例）（T0002） 遞補嗎"]),
        Press("確定遞補", intent="enroll", shows=["已完成遞補"]),
    ])
    async with app.sessions() as s:
        code = (await s.execute(select(TrainingClass.id).where(TrainingClass.code == "DEMO-TM-01"))).scalar_one()
    state = await seats(app, code)
    assert state.taken == 2 and len(state.enrolled) == 2 and state.waitlisted == []
    notices = dict(await outbox_texts(app, "class-sub-"))
    assert any(k.startswith("class-sub-out:") for k in notices)           # T0001 chatted above, so has an account
    assert any(k.startswith("class-sub-in:") and "示範員工甲（範例）" in t for k, t in notices.items())


async def test_in_english(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0003", [
        Say("English"),
        Say("enroll python", intent="enroll", shows=["Upcoming classes of \"Python for Absolute Beginners\"",
                                                     "2024-03-15 (Fri) 09:00–12:00"]),
        Press("Enroll in this class", shows=["Please confirm", "official leave", "over 1/3"]),
        Press("Confirm", shows=["You're enrolled!"]),
        Say("my enrollments", intent="my_enrollments", shows=["Enrolled", "2 upcoming"]),
    ])


async def test_the_cancel_question_speaks_of_a_waitlist_only_when_someone_waits(sqlite_app: Runtime) -> None:
    # found trying it: 「取消後名額會立即釋出給候補同仁」 was said of a class with 30 free seats and nobody waiting
    await run_dialog(sqlite_app, "T0001", [
        Say("報名 python"),
        Press("報名這班"),
        Press("確認報名", shows=["報名成功！"]),
        Say("取消 python", intent="cancel_enrollment", shows=["確定要取消「零基礎 Python 入門班"], hides=["候補"]),
        Press("保留報名"),
        Say("取消 時間管理", intent="cancel_enrollment", shows=["確定要取消「我要成為時間管理大師", "候補同仁"]),
    ], channel="console")
