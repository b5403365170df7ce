"""The hours view in chat, and HR looking up colleagues (roles checked, refusals polite and audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import FrozenClock
from bot.db.models.accounts import AdminAudit
from bot.db.models.core import Employee
from bot.services.accounts import grant
from handlers.hours import bar
from tests.dialog import Say, run_dialog


def test_bars_fill_only_when_complete() -> None:
    from decimal import Decimal as D

    assert bar(D(0), D(5)) == "▱" * 10
    assert bar(D(2), D(4)) == "▰" * 5 + "▱" * 5
    assert bar(D("9.99"), D(10)) == "▰" * 9 + "▱"
    assert bar(D(12), D(10)) == "▰" * 10


async def test_demo_user_sees_buckets_deadlines_sources_and_a_suggestion(sqlite_app: Runtime) -> None:
    [outcome] = await run_dialog(sqlite_app, "T0001", [Say("我還差幾小時", intent="hours", shows=[
        "示範員工甲（範例）｜113年度學習時數（113年3月1日）",
        "當前政府重大政策　1／1 ✔",
        "環境教育　2／4，還差 2",
        "民主治理價值　1／5，還差 4",
        "113年9月30日截止，還有 213 天，尚差 6 小時",
        "113年12月31日截止，還有 305 天",
        "終身學習入口網站 4 小時",
        "人事單位登錄 2.5 小時",
        "✘ 113年2月15日 勞基法實務案例探討（範例） 3 小時｜本府班期（依出席）：未認列，請假超過課程時數的規定比例",
        "請假逾課程時數 1/3",
        "樂桃e學園",
    ], hides=["還有 -", "差 -"])])
    progress = outcome.replies[0].text
    assert "-" not in progress and "-" not in outcome.replies[1].text   # no negative figures
    assert "▰" in progress and len(max(progress.splitlines(), key=len)) <= 40   # short lines for a phone
    assert outcome.replies[-1].type == "cards" and outcome.replies[-1].cards        # courses to take next


async def test_english_and_iso_dates(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("English"),
        Say("how many hours do I still need", intent="hours", shows=[
            "Environmental Education: 2/4, 2 to go", "due 2024-09-30, 213 days left", "lifelong-learning portal",
            "not counted, leave over the allowed share", "LeTao e-Academy"]),
    ])


async def test_after_the_deadlines_it_says_so(sqlite_app: Runtime, clock: FrozenClock) -> None:
    clock.set(datetime(2024, 10, 2, 4, 0, tzinfo=UTC))
    await run_dialog(sqlite_app, "T0001", [Say("時數", intent="hours", shows=[
        "已於113年9月30日截止，尚差 6 小時", "113年12月31日截止，還有 90 天", "已經過了"], hides=["還有 -"])])


async def test_special_cases_complete_exempt_and_new_hire(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0003", [Say("時數", shows=["全年時數已完成", "都完成了"])])
    await run_dialog(sqlite_app, "T0006", [Say("時數", shows=["不在此列", "共 3 小時"], hides=["還差"])])
    await run_dialog(sqlite_app, "T0004", [Say("時數", shows=["113年1月2日到職", "不依到職月份折算",
                                                              "有未請假缺課"])])


async def test_unbound_and_inactive_users(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "U-stranger", [Say("我還差幾小時", intent="hours", shows=["請先綁定"],
                                                    buttons=["綁定帳號"])], channel="line")
    async with sqlite_app.sessions.begin() as s:
        (await s.execute(select(Employee).where(Employee.employee_no == "T0002"))).scalar_one().active = False
    await run_dialog(sqlite_app, "T0002", [Say("時數", intent="hours", shows=["不在本府人員名冊上"])])


async def audit(app: Runtime) -> list[tuple[str, str, bool]]:
    async with app.sessions() as s:
        return [(a.action, a.target, a.allowed) for a in (await s.execute(
            select(AdminAudit).where(AdminAudit.action == "hours.view_other").order_by(AdminAudit.id))).scalars()]


async def test_hr_looks_up_colleagues_within_their_scope(app: Runtime) -> None:
    # T0005 is agency HR of 桃園市政府人事處 in the sample data
    await run_dialog(app, "T0005", [
        Say("查時數 T0002", intent="hours", shows=["示範員工乙（範例）｜113年度"]),
        Say("查時數 T0003", intent="hours", shows=["不屬於您可查詢的機關"], hides=["示範主管丙"]),
        Say("查時數 X0000", intent="hours", shows=["不屬於您可查詢的機關"]),   # no hint whether it exists
        Say("查時數", intent="hours", shows=["示範人事戊（範例）｜113年度"]),  # alone: one's own
    ])
    await run_dialog(app, "T0001", [Say("查時數 T0002", intent="hours", shows=["限機關人事人員使用"])])
    assert await audit(app) == [("hours.view_other", "T0002", True), ("hours.view_other", "T0003", False),
                                ("hours.view_other", "X0000", False), ("hours.view_other", "T0002", False)]
    async with app.sessions.begin() as s:
        t1 = (await s.execute(select(Employee).where(Employee.employee_no == "T0001"))).scalar_one()
        await grant(s, t1, "city_admin", "", now=app.clock.now())
    await run_dialog(app, "T0001", [
        Say("查時數 T0003", intent="hours", shows=["示範主管丙（範例）"]),
        Say("查時數 X0000", intent="hours", shows=["找不到員工編號 X0000"]),
    ])


async def test_hr_reading_a_colleagues_hours_is_spoken_to_as_hr(app: Runtime) -> None:
    # found trying it as HR: 查時數 T0006 said 「您的人員類別…不在此列」 to the officer, and a colleague's
    # view ended with 「建議下一步」 addressed to the employee
    await run_dialog(app, "T0005", [
        Say("查時數 T0001", intent="hours", shows=["示範員工甲（範例）"], hides=["建議下一步"]),
        Say("查時數", intent="hours", shows=["示範人事戊（範例）"]),
        Say("查時數 T0001 T0002", intent="hours", shows=["一次請查一位同仁"], hides=["T0001T0002"]),
    ])
    await run_dialog(app, "T0001", [Say("我的時數", intent="hours", shows=["建議下一步"])])
    async with app.sessions.begin() as s:
        t2 = (await s.execute(select(Employee).where(Employee.employee_no == "T0002"))).scalar_one()
        await grant(s, t2, "city_admin", "", now=app.clock.now())
    await run_dialog(app, "T0002", [          # T0006 (臨時人員) is of another agency: a city admin's lookup
        Say("查時數 T0006", intent="hours", shows=["這位同仁的人員類別"], hides=["您的人員類別"]),
    ])
