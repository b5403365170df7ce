"""提醒設定 and 我的提醒 in chat, as the demo employee uses them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI
from bot.db.models.reminders import SurveyInvitation
from tests.dialog import Press, Say, run_dialog


async def test_switching_deadline_reminders_off_and_on_again(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0002", [
        Say("提醒設定", intent="reminders", shows=["上課提醒：開啟", "時數截止提醒：開啟", "滿意度問卷：開啟",
                                                   "21:00–08:00"]),
        Press("時數截止提醒：關閉", intent="reminders", shows=["已關閉「時數截止提醒」", "時數截止提醒：關閉"]),
        Press("時數截止提醒：開啟", intent="reminders", shows=["已開啟「時數截止提醒」", "時數截止提醒：開啟"]),
    ])


async def test_someone_who_says_stop_reminding_me_gets_the_settings(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0002", [Say("不要再提醒我", intent="reminders", shows=["提醒設定"])])


async def test_deadline_reminders_switched_off_are_not_queued(sqlite_app: Runtime) -> None:
    app = sqlite_app
    await run_dialog(app, "T0002", [Say("提醒設定"), Press("時數截止提醒：關閉", intent="reminders")])
    assert app.app.reminders is not None
    async with app.sessions.begin() as s:
        result = await app.app.reminders.sweep(s, datetime(2024, 9, 23, 9, tzinfo=TAIPEI))
    assert "reminders.deadline" not in result.queued


async def test_my_reminders_lists_what_was_queued_for_me(sqlite_app: Runtime) -> None:
    app = sqlite_app
    await run_dialog(app, "T0002", [Say("我的提醒", intent="reminders", hides=["為您排定的提醒："],
                                        shows=["接下來 14 天會提醒您", "明天截止報名"])])
    assert app.app.reminders is not None
    async with app.sessions.begin() as s:
        await app.app.reminders.sweep(s, datetime(2024, 9, 23, 9, tzinfo=TAIPEI))
    await run_dialog(app, "T0002", [
        Say("我的提醒", intent="reminders", shows=["為您排定的提醒", "113年9月23日 09:00", "待送出", "還有 7 天"]),
    ])


async def test_an_unlinked_user_is_asked_to_link_first(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "NOBODY1", [Say("提醒設定", intent="reminders", shows=["請先綁定員工帳號"])])


async def test_my_reminders_also_shows_the_class_reminders_still_to_come(sqlite_app: Runtime) -> None:
    # the demo employee holds a seat in the time-management class (DEMO-TM-01), meeting on 113年3月11日
    await run_dialog(sqlite_app, "T0001", [
        Say("我的提醒", intent="reminders", shows=["接下來 14 天會提醒您", "明天上課提醒", "18:00", "今天上課提醒",
                                                  "匿名滿意度問卷"]),
    ])
    async with sqlite_app.sessions() as s:  # looking ahead issues no survey token
        assert (await s.execute(select(func.count()).select_from(SurveyInvitation))).scalar_one() == 0
