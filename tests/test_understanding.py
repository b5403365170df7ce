"""Issue 10: what employees type gets the answer its words ask for (dialog tables, SQLite).

Every phrase quoted in the issue is here, with the answer it should get; then clarifying questions, small
talk in both languages, typed answers at confirmation cards, "back" and "main menu" from anywhere.
"""

from __future__ import annotations

import pytest

from bot.bootstrap import Runtime
from tests.dialog import Press, Say, run_dialog

TM = "我要成為時間管理大師"
PY = "零基礎 Python 入門班"
NO_COURSE = "找不到與"
PERSONNEL = "人事室"


async def test_the_phrases_of_the_issue_get_what_their_words_ask_for(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("我要取消報名", intent="cancel_enrollment", shows=[f"確定要取消「{TM}"], hides=[NO_COURSE]),
        Press("保留報名", intent="cancel_enrollment"),
        Say("我要綁定", intent="bind", shows=["已綁定為"], hides=[NO_COURSE]),
        Say("有哪些課", intent="browse", buttons=["A｜打磨必備職能", "B｜智慧創新素養", "C｜自我覺察療癒"]),
        Say("ABC課程", intent="browse", buttons=["A｜打磨必備職能"]),
        Say("今年還要上幾小時", intent="hours", shows=["還差 7.5 小時"]),
        Say("必修時數還剩多少", intent="hours", shows=["還差"]),
        Say("英檢證明", intent="certificate", hides=[NO_COURSE]),
        Say("證照上傳", intent="certificate", hides=[NO_COURSE]),
        Say("回主選單", intent="help", buttons=["瀏覽課程", "我的時數"]),
        Say("help me", intent="help", hides=[NO_COURSE]),
        Say("你是機器人嗎", intent="smalltalk", shows=["聊天機器人"], hides=["RPA", NO_COURSE]),
        Say("幫我報名 Power BI", intent="enroll", shows=["PowerBI"], hides=[NO_COURSE]),
    ])


async def test_the_english_phrases_of_the_issue(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("English", intent="help"),
        Say("browse courses", intent="browse", buttons=["A | Adept/Advice: Essential Competencies"]),
        Say("upload certificate", intent="certificate", hides=["No course matches"]),
        Say("sign me up for python", intent="enroll", shows=["Python for Absolute Beginners"]),
        Say("main menu", intent="help", buttons=["Browse courses"]),
        Say("goodbye", intent="smalltalk", shows=["Goodbye"], hides=["告別", "No course matches"],
            buttons=["Browse courses"]),
        Say("help me", intent="help", hides=["No course matches"]),
    ])


async def test_returning_to_the_previous_screen_and_to_the_menu(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("課程", intent="browse"),
        Press("A｜打磨必備職能", intent="browse", buttons=["專業職能訓練"]),
        Press("專業職能訓練", intent="browse", shows=["新進人員專班"]),
        Say("返回", intent="browse", buttons=["領導管理訓練", "專業職能訓練"]),
        Say("上一頁", intent="browse", buttons=["A｜打磨必備職能", "B｜智慧創新素養"]),
        Say("python", intent="search", shows=["「python」找到"]),
        Press("看介紹", intent="course", shows=["【零基礎 Python 入門班】"]),
        Say("返回", intent="search", shows=["「python」找到"]),        # back to the search results
        Say("back", intent="browse", buttons=["A｜打磨必備職能"]),
    ])


async def test_main_menu_and_back_leave_the_linking_flow(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "U-nav", [
        Say("綁定", intent="bind", shows=["員工編號"]),
        Say("回主選單", intent="help", buttons=["瀏覽課程"]),
        Say("T0002", intent="unknown", hides=["綁定碼"]),               # the flow is gone
        Say("有哪些課", intent="browse"),
        Say("綁定", intent="bind"),
        Say("返回", intent="browse", buttons=["A｜打磨必備職能"]),      # back to the screen before linking
        Say("T0002", intent="unknown", hides=["綁定碼"]),
        Say("返回", intent="browse"),
        Say("返回", intent="help", buttons=["瀏覽課程"]),              # the menu shown before browsing
        Say("返回", intent="help", shows=["已經沒有上一頁"]),
    ], channel="line")


async def test_typed_answers_press_the_buttons_of_a_confirmation(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("報名 python", intent="enroll"),
        Press("報名這班", intent="enroll", buttons=["確認報名", "先不要"]),
        Say("不要", intent="enroll", shows=["這次先不報名"]),
        Say("好", intent="smalltalk", hides=["報名成功"]),              # no card open any more: just "ok"
        Say("確定", intent="smalltalk", hides=["報名成功", "已綁定"]),   # was read as 綁定 (found trying it)
        Say("報名 python", intent="enroll"),
        Press("報名這班", intent="enroll"),
        Say("確認報名", intent="enroll", shows=["報名成功"]),           # its label, typed
        Say("取消報名 python", intent="cancel_enrollment", buttons=["確定取消", "保留報名"]),
        Say("否", intent="cancel_enrollment", shows=["保留您的報名"]),
        Say("取消報名 python", intent="cancel_enrollment"),
        Say("是", intent="cancel_enrollment", shows=["已取消"]),
    ])
    await run_dialog(sqlite_app, "T0003", [
        Say("English", intent="help"),
        Say("enroll python", intent="enroll"),
        Press("Enroll in this class", intent="enroll"),
        Say("yes", intent="enroll", shows=["You're enrolled"]),
        Say("cancel python", intent="cancel_enrollment"),
        Say("no", intent="cancel_enrollment", shows=["your enrollment stays"]),
    ])


@pytest.mark.parametrize("yes", ["好", "確定", "確認", "ok", "好的"])
async def test_every_yes_word_confirms(sqlite_app: Runtime, yes: str) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("報名 python", intent="enroll"),
        Press("報名這班", intent="enroll"),
        Say(yes, intent="enroll", shows=["報名成功"]),
    ])


async def test_small_talk_gets_one_friendly_line_with_the_menu(sqlite_app: Runtime) -> None:
    steps: list[Say] = []
    for text, shows in (("謝謝", "不客氣"), ("感謝", "不客氣"), ("再見", "再見"), ("掰掰", "再見"), ("好的", "好的"),
                        ("早安", "您好"), ("你是誰", "學習小幫手"), ("你是機器人嗎", "聊天機器人")):
        steps.append(Say(text, intent="smalltalk", shows=[shows], hides=[NO_COURSE], buttons=["瀏覽課程"]))
    steps.append(Say("English", intent="help"))
    for text, shows in (("thanks", "You're welcome"), ("bye", "Goodbye"), ("ok", "All right"),
                        ("good morning", "Hello"), ("who are you", "ABC Learning Bot")):
        steps.append(Say(text, intent="smalltalk", shows=[shows], hides=["No course matches"],
                         buttons=["Browse courses"]))
    await run_dialog(sqlite_app, "T0001", steps)


async def test_questions_outside_the_bots_job_point_to_the_personnel_office(sqlite_app: Runtime) -> None:
    steps = [Say(text, intent="out_of_scope", shows=["桃園市政府人事處人事室"], hides=[NO_COURSE], buttons=["瀏覽課程"])
             for text in ("請假", "公假怎麼請", "人事室電話", "薪水", "真人客服", "我想請假", "請問加班費怎麼算")]
    await run_dialog(sqlite_app, "T0001", steps)
    await run_dialog(sqlite_app, "U-oos", [
        Say("真人客服", intent="out_of_scope", shows=["您服務機關的人事室"]),
        Say("English", intent="help"),
        Say("I want to talk to a real person", intent="out_of_scope", shows=["your agency's personnel office"]),
    ], channel="line")


async def test_a_request_is_never_answered_no_course_matches(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("請問我該找誰處理這件事呢", intent="unknown", shows=["不太確定您的意思"], hides=[NO_COURSE],
            buttons=["瀏覽課程"]),
        Say("颱風假", intent="unknown", shows=["找不到與「颱風假」相關的課程", PERSONNEL]),   # a bare noun: searched
        Say("特休", intent="search", shows=["勞基法實務案例探討"]),                          # … and found
        Say("有沒有python的課", intent="search", shows=[PY]),
    ])


async def test_a_clarifying_question_offers_both_and_the_choice_is_answered(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("上課報名", intent="clarify", shows=["您是想要：", "報名課程", "／", "查我的上課時間"],
            buttons=["報名課程", "查我的上課時間", "主選單"]),
        Press("查我的上課時間", intent="schedule", shows=["您接下來的課程", TM]),
        Say("上課報名", intent="clarify"),
        Press("報名課程", intent="enroll", shows=["目前開放報名"]),        # no course 上課: the open classes
    ])


async def test_schedule_questions_list_the_coming_meetings(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("我這週有什麼課", intent="schedule", shows=["您接下來的課程", TM]),
        Say("下次上課是什麼時候", intent="schedule", shows=[TM]),
        Say("English", intent="help"),
        Say("my schedule", intent="schedule", shows=["Your coming classes"]),
        Say("when is my class", intent="schedule"),
    ])
    await run_dialog(sqlite_app, "T0004", [
        Say("我的課表", intent="schedule", shows=["您目前沒有排定的課程"]),
    ])


async def test_hr_phrases_keep_their_argument(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0005", [
        Say("查時數 T0002", intent="hours", shows=["示範員工乙（範例）"]),
        Say("幫我查T0002的時數", intent="hours", shows=["示範員工乙（範例）"]),
    ])
