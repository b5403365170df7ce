"""Defects found by using the bot as employees and HR would, in zh-TW and English (one dialog per defect)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest

from bot.bootstrap import Runtime
from bot.cli import _setup_logging
from bot.config import DEFAULT_DATA_DIR
from bot.services.catalog import load_catalog, load_rules
from bot.texts import MessageCatalog
from tests.conftest import base_settings, issue_code
from tests.dialog import Press, Say, run_dialog

TM = "我要成為時間管理大師｜第1期（範例，名額已滿）"
PY = "零基礎 Python 入門班｜第1期（範例）"


async def test_cancel_with_a_course_name_never_offers_another_class(sqlite_app: Runtime) -> None:
    # T0001 holds one seat (time management). "取消報名 python" used to ask to cancel THAT seat.
    await run_dialog(sqlite_app, "T0001", [
        Say("取消報名 python", intent="cancel_enrollment", shows=["沒有可以取消的「python」報名", TM],
            hides=["確定要取消"]),
        Say("報名 python", intent="enroll"),
        Press("報名這班", intent="enroll"),
        Press("確認報名", intent="enroll", shows=["報名成功"]),
        Say("取消报名 python", intent="cancel_enrollment", shows=[f"確定要取消「{PY}」"], hides=[TM],
            buttons=["確定取消"]),
        Say("取消報名 demo-tm-01", intent="cancel_enrollment", shows=[f"確定要取消「{TM}」"], hides=[PY]),
        Say("cancel my enrollment", intent="cancel_enrollment", shows=["請選擇要取消的報名", TM, PY]),
    ])


async def test_cancel_typed_in_english_leaves_the_linking_flow(sqlite_app: Runtime) -> None:
    # The prompt says 'type "cancel" to stop'; "cancel" used to be answered as cancel-enrollment, flow kept.
    await run_dialog(sqlite_app, "U-en", [
        Say("English", intent="help"),
        Say("link account", intent="bind", shows=['type "cancel" to stop']),
        Say("cancel", intent="bind", shows=["Linking cancelled"]),
        Say("T0002", intent="unknown", hides=["linking code"]),      # the flow is really gone
        Say("link account", intent="bind"),
        Say("T0002", intent="bind", shows=["linking code"]),
        Say("Cancel", intent="bind", shows=["Linking cancelled"]),
        Say("link account", intent="bind"),
        Say("取消報名", intent="cancel_enrollment", shows=["link your employee account first"]),
        Say("T0002", intent="unknown"),                               # another command also left the flow
    ], channel="line")


async def test_cancel_typed_at_a_confirmation_card_only_stops_it(sqlite_app: Runtime) -> None:
    # "cancel" at the enrollment confirmation used to open cancelling T0001's other seat (time management).
    await run_dialog(sqlite_app, "T0001", [
        Say("English", intent="help"),
        Say("enroll python", intent="enroll"),
        Press("Enroll in this class", intent="enroll", shows=["Please confirm your enrollment"]),
        Say("cancel", intent="help", shows=["Nothing you have not confirmed will happen"],
            hides=["Cancel your enrollment", "Yes, cancel"]),
        Say("/cancel", intent="help", hides=["Cancel your enrollment"]),
        Say("my enrollments", intent="my_enrollments", hides=["Python for Absolute Beginners"]),
        Say("cancel time management", intent="cancel_enrollment", shows=["Cancel your enrollment in"]),
    ])


async def test_a_rejected_number_does_not_repeat_the_prompt(sqlite_app: Runtime) -> None:
    outcomes = await run_dialog(sqlite_app, "U-id", [
        Say("綁定", intent="bind"),
        Say("A123456789", intent="bind", shows=["請不要輸入身分證字號"], hides=["我們來綁定"]),
        Say("T0002 ABCD-EFGH", intent="bind", shows=["員工編號或綁定碼不正確"], hides=["我們來綁定"]),
    ], channel="line")
    assert outcomes[1].replies[0].text.count("員工編號（例如 T0001）") == 1


async def test_cancel_with_no_flow_open_says_nothing_unconfirmed_happens(sqlite_app: Runtime) -> None:
    # After a confirmation card, people type 取消 instead of pressing 先不要; it used to be searched as a course.
    await run_dialog(sqlite_app, "T0001", [
        Say("報名 python", intent="enroll"),
        Press("報名這班", intent="enroll", buttons=["確認報名", "先不要"]),
        Say("取消", intent="help", shows=["還沒按下確認的操作都不會執行"], hides=["找不到"], buttons=["瀏覽課程"]),
        Say("算了", intent="help", shows=["已停止"]),
        Say("English", intent="help"),
        Say("never mind", intent="help", shows=["Nothing you have not confirmed will happen"]),
        Say("我的報名", intent="my_enrollments", hides=[PY]),           # nothing was enrolled
    ])


async def test_substitute_accepts_any_case_and_full_width_and_reads_well_in_english(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0005", [
        Say("遞補 demo-tm-01 t0001 t0002", intent="enroll", shows=["示範員工甲（範例）（T0001）"],
            hides=["找不到班期"], buttons=["確定遞補"]),
        Say("遞補　ＤＥＭＯ－ＴＭ－０１　Ｔ０００１　Ｔ０００２", intent="enroll", buttons=["確定遞補"]),
        Say("English", intent="help"),
        Say("substitute DEMO-TM-01 T0001 T0002", intent="enroll",
            shows=["Give 示範員工甲（範例） (T0001)'s seat", "to 示範員工乙（範例） (T0002)?"], hides=["（T000"]),
        Press("Confirm substitute", intent="enroll", shows=["now has the seat"]),
    ])


async def test_hr_looking_up_an_unknown_number_is_not_told_they_are_not_hr(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0005", [        # agency HR of 人事處
        Say("查時數 T0002", intent="hours", shows=["示範員工乙（範例）"]),
        Say("查時數 T9999", intent="hours", shows=["找不到員工編號 T9999，或這位同仁不屬於您可查詢的機關"],
            hides=["您目前沒有權限"]),
        Say("查時數 T0003", intent="hours", shows=["找不到員工編號 T0003，或"]),   # another agency: same words
    ])
    await run_dialog(sqlite_app, "T0001", [        # not HR at all
        Say("查時數 T9999", intent="hours", shows=["您目前沒有權限"], hides=["找不到員工編號"]),
    ])


async def test_hours_sources_line_in_english_and_when_nothing_is_credited(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("English", intent="help"),
        Say("hours", intent="hours", shows=["Where your hours come from: lifelong-learning portal: 4 h"]),
    ])
    # T0004's only record was forfeited: no empty "where from" line.
    outcomes = await run_dialog(sqlite_app, "T0004", [
        Say("我還差幾小時", intent="hours", shows=["未認列"], hides=["時數來源"]),
    ])
    assert outcomes[0].replies[1].text.startswith("最近的學習紀錄")


async def test_natural_ways_to_ask_for_hours(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("還差多少時數", intent="hours", shows=["還差 7.5 小時"]),
        Say("我還需要多少小時？", intent="hours"),
        Say("我还差几个小时", intent="hours"),
    ])


async def test_english_course_and_class_show_audience_and_mode_in_english(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("English", intent="help"),
        Say("details of time management", intent="course", shows=["For: all staff"], hides=["全體同仁"]),
        Say("enroll python", intent="enroll", shows=["Dedicated class | Host:", "Blended learning | Host:"],
            hides=["專班", "混成學習 |"]),
        Press("Enroll in this class", intent="enroll", shows=["Format: Dedicated class"]),
        Say("中文", intent="help"),
        Say("介紹 時間管理", intent="course", shows=["對象：全體同仁"]),
        Say("報名 python", intent="enroll", shows=["專班｜主辦：", "混成學習｜主辦："]),
    ])


def test_every_mode_and_audience_of_the_plan_has_an_english_term() -> None:
    texts = MessageCatalog.load()
    settings = base_settings("sqlite+aiosqlite://")
    catalog = load_catalog(DEFAULT_DATA_DIR, settings.plan_year)
    audiences = {a for item in catalog for a in item.audience}
    assert audiences
    known = texts.keys()
    missing = [a for a in audiences if f"course.audience_value.{a}" not in known]
    assert not missing
    for a in audiences:
        assert texts.get(f"course.audience_value.{a}", "zh-TW") == a
        assert not re.search(r"[\u4e00-\u9fff]", texts.get(f"course.audience_value.{a}", "en"))


@pytest.mark.parametrize("lang", ["zh-TW", "en"])
async def test_every_delivery_mode_reads_in_the_users_language(sqlite_app: Runtime, lang: str) -> None:
    texts = MessageCatalog.load()
    modes = list(sqlite_app.app.enrollment.modes)
    assert modes
    for mode in modes:
        shown = texts.get(f"classes.mode.{mode}", lang)
        assert shown == mode if lang == "zh-TW" else not re.search(r"[\u4e00-\u9fff]", shown)


def test_bucket_names_are_the_same_in_the_hours_view_and_on_class_cards() -> None:
    texts = MessageCatalog.load()
    rules = load_rules(DEFAULT_DATA_DIR, 113)
    for b in rules.hours.buckets:
        assert texts.get(f"bucket.{b.id}", "zh-TW") == b.title
        assert texts.get(f"bucket.{b.id}", "en") == b.title_en


def test_help_only_names_words_that_do_what_it_says() -> None:
    texts = MessageCatalog.load()
    assert "「選單」" not in texts.get("menu.help", "zh-TW")     # 選單 shows this help again, not the courses
    assert '"menu"' not in texts.get("menu.help", "en")


def test_debug_logging_does_not_print_sql_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    # aiosqlite logs each statement with its parameters (names, employee numbers) at DEBUG.
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    root = logging.getLogger()
    saved = root.level, logging.getLogger("aiosqlite").level
    try:
        root.setLevel(logging.DEBUG)
        _setup_logging(replace(base_settings("sqlite+aiosqlite://"), log_level="DEBUG"), "WARNING")
        assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(saved[0])
        logging.getLogger("aiosqlite").setLevel(saved[1])


async def test_unlinked_users_asked_to_link_get_the_button_that_does_it(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "U-nb", [
        Say("我的報名", intent="my_enrollments", shows=["請先綁定員工帳號"], buttons=["綁定帳號"]),
        Press("綁定帳號", intent="bind", shows=["請輸入您的員工編號"]),
        Say("取消", intent="bind", shows=["已取消綁定"]),
        Say("取消報名", intent="cancel_enrollment", buttons=["綁定帳號"]),
        Say("報名 python", intent="enroll"),
        Press("報名這班", intent="enroll", shows=["請先綁定員工帳號"], buttons=["綁定帳號", "主選單"]),
    ], channel="line")


async def test_linking_still_works_after_the_cancel_changes(sqlite_app: Runtime) -> None:
    code = await issue_code(sqlite_app, "T0002")
    await run_dialog(sqlite_app, "U-ok", [
        Say("English", intent="help"),
        Say("link account", intent="bind"),
        Say("t0002", intent="bind", shows=["linking code"]),
        Say(code, intent="bind", shows=["Linked!", "示範員工乙（範例）"]),
        Say("my enrollments", intent="my_enrollments", shows=["Waitlisted #1"]),
    ], channel="line")


async def test_every_stop_word_stops_the_linking_flow_with_its_own_answer(sqlite_app: Runtime) -> None:
    # The flow had its own list of stop words; "先不要" (a stop word everywhere else) left it generically.
    cancelled = sqlite_app.texts.get("bind.cancelled", "zh-TW")
    steps: list[Say] = []
    for word in ("先不要", "取消", "不綁了", "never mind"):
        steps += [Say("綁定", intent="bind"), Say(word, intent="bind", shows=[cancelled])]
    await run_dialog(sqlite_app, "U-stop", steps, channel="line")
