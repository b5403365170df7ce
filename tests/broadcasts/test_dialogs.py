"""The announcement flow in chat, as dialog tables.

An agency HR officer announces to their agency's people with a mandatory-hours gap, sees the count and the
cost, confirms, and reads the report; employees are refused, a bad text is explained, 取消 stops the flow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import insert, select

from bot.bootstrap import Runtime
from bot.channels.line_client import LineClient
from bot.channels.line_insights import LineInsights
from bot.channels.line_sender import LineSender
from bot.conversation import IncomingMessage
from bot.db.models.accounts import AdminAudit
from bot.db.models.broadcasts import Broadcast
from bot.db.models.core import ChannelAccount, Employee
from bot.metrics import Metrics
from bot.services.accounts import find_employee, grant
from bot.services.broadcasts import ChunkDeliverer
from bot.services.notices import DeliveryWorker
from tests.dialog import Press, Say, all_text, buttons_of, run_dialog
from tests.line.conftest import no_sleep
from tests.line.fake_line import FakeLine

HR_AGENCY = "桃園市政府人事處"


async def bind_line(app: Runtime, numbers: list[str]) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as s:
        ids = dict((await s.execute(select(Employee.employee_no, Employee.id)
                                    .where(Employee.employee_no.in_(numbers)))).all())
        await s.execute(insert(ChannelAccount), [
            {"channel": "line", "external_id": f"Ud{no}", "employee_id": ids[no], "lang": "zh-TW", "state_data": {},
             "reachable": True, "created_at": now, "last_seen_at": now} for no in numbers])


async def test_agency_hr_announces_to_their_mandatory_gap_and_reads_the_report(app: Runtime) -> None:
    await bind_line(app, ["T0001", "T0002", "T0003"])  # T0003 is of another agency
    await run_dialog(app, "T0005", [
        Say("發布公告", intent="announce", shows=["要發布給哪些同仁"], buttons=["本機關全體", "必修時數未完成"],
            hides=["全市同仁"]),
        Press("必修時數未完成", intent="announce", shows=["請輸入公告內容", "{name}"]),
        Say("數位思維新班開放報名，請把握必修時數", intent="announce",
            shows=["發布前確認", f"agency:{HR_AGENCY},gap:mandatory", "LINE 訊息則數：2", HR_AGENCY],
            buttons=["確認發布", "先不要"]),
        Press("確認發布", intent="announce", shows=["已排入發送"]),
    ])
    async with app.sessions() as s:
        broadcast = (await s.execute(select(Broadcast))).scalar_one()
    assert broadcast.audience == f"agency:{HR_AGENCY},gap:mandatory" and broadcast.counts["cost"] == 2
    fake = await FakeLine().start()
    client = LineClient("t", fake.url)
    try:
        sender = LineSender(client, Metrics(), sleep=no_sleep)
        chunks = ChunkDeliverer(app.sessions, app.clock, {"line": sender}, app.app.deps.notices.render)
        await DeliveryWorker(app.sessions, app.clock, {"line": sender}, batches=[chunks],
                             base_backoff=timedelta(0)).run_until_idle()
    finally:
        await client.close()
        await fake.stop()
    received = Counter(u for to in fake.multicast_accepted for u in to)
    assert received == {"UdT0001": 1, "UdT0002": 1}
    await run_dialog(app, "T0005", [
        Say("公告紀錄", intent="announce", shows=[f"#{broadcast.id}", "已送達 2"]),
    ])


async def test_employees_and_stale_buttons_are_refused(app: Runtime) -> None:
    await run_dialog(app, "T0001", [
        Say("發布公告", intent="announce", shows=["人事人員的功能"]),
        Say("公告紀錄", intent="announce", shows=["人事人員的功能"]),
    ])
    await run_dialog(app, "T0005", [
        Say("發布公告", intent="announce"),
        Press("本機關全體", intent="announce"),
        Say("這裡有個 {nickname}", intent="announce", shows=["無法發送"]),
        Say("取消", intent="announce", shows=["沒有發送"], hides=["發布前確認"]),
    ])
    async with app.sessions() as s:
        assert (await s.execute(select(Broadcast))).first() is None


async def test_an_employee_turns_optional_announcements_off_and_on(app: Runtime) -> None:
    from bot.services.accounts import Scope
    from bot.services.broadcasts import Content, make_plan, parse_audience
    from handlers.optout import OptOut

    render = app.app.deps.notices.render
    [reply] = render(Content("講座分享").notice(optional=True), "zh-TW")
    assert [c.action for c in reply.choices] == [OptOut(off=1)]
    assert not render(Content("講座分享").notice(), "zh-TW")[0].choices  # a necessary one: no way to turn it off
    await run_dialog(app, "T0001", [Say("你好")])
    off = await app.dispatcher.handle(IncomingMessage.from_payload("console", "T0001", OptOut(off=1).pack()))
    assert "不會再傳給您" in all_text(off.replies)

    async def opted_out(optional: bool) -> int:
        async with app.sessions() as s:
            plan = await make_plan(s, parse_audience(f"agency:{HR_AGENCY}", app.rules), Content("hi"),
                                   scope=Scope(city=True), rules=app.rules, today=app.clock.now().date(),
                                   optional=optional)
        return sum(1 for _, reason in plan.unreachable if reason == "opted_out")

    assert await opted_out(True) == 1 and await opted_out(False) == 0
    await app.dispatcher.handle(IncomingMessage.from_payload("console", "T0001", OptOut(off=0).pack()))
    assert await opted_out(True) == 0


@asynccontextmanager
async def line_insights(app: Runtime, fake: FakeLine) -> AsyncIterator[None]:
    """The chat reads LINE's quota and statistics from ``fake``, as ``serve`` does with LINE configured."""

    @asynccontextmanager
    async def insights() -> AsyncIterator[LineInsights]:
        client = LineClient("t", fake.url)
        reader = LineInsights(client)
        try:
            yield reader
        finally:
            await reader.close()
            await client.close()

    before = app.app
    app.app = app.dispatcher.app = replace(before, insights=insights)
    try:
        yield
    finally:
        app.app = app.dispatcher.app = before


async def _grant(app: Runtime, employee_no: str, role: str, agency: str = "") -> None:
    async with app.sessions.begin() as s:
        employee = await find_employee(s, employee_no)
        assert employee is not None
        await grant(s, employee, role, agency, now=app.clock.now())


async def _deliver(app: Runtime, fake: FakeLine) -> None:
    client = LineClient("t", fake.url)
    try:
        sender = LineSender(client, Metrics(), sleep=no_sleep)
        chunks = ChunkDeliverer(app.sessions, app.clock, {"line": sender}, app.app.deps.notices.render)
        await DeliveryWorker(app.sessions, app.clock, {"line": sender}, batches=[chunks],
                             base_backoff=timedelta(0)).run_until_idle()
    finally:
        await client.close()


async def test_the_preview_shows_the_quota_left_and_an_agency_officer_cannot_go_over_it(app: Runtime) -> None:
    await bind_line(app, ["T0001", "T0002"])
    fake = await FakeLine(quota_limit=200, quota_used=199).start()
    try:
        async with line_insights(app, fake):
            await run_dialog(app, "T0005", [
                Say("發布公告", intent="announce"),
                Press("本機關全體", intent="announce"),
                Say("週五下午停電，請提早存檔", intent="announce",
                    shows=["LINE 訊息則數：2", "超過本月 LINE 剩餘額度：需要 2 則，只剩 1 則", "請市府人事處協助"],
                    buttons=["先不要"], hides=["確認發布", "仍要發送"]),
                Press("先不要", intent="announce", shows=["沒有發送"]),
            ])
            fake.quota_used = 0
            *_, preview = await run_dialog(app, "T0005", [
                Say("發布公告", intent="announce"),
                Press("本機關全體", intent="announce"),
                Say("週五下午停電，請提早存檔", intent="announce", shows=["本月 LINE 剩餘額度：200 則"],
                    buttons=["確認發布"]),
            ])
            fake.quota_used = 199  # the month ran out between the preview and the press: the preview again
            [send] = [b for b in buttons_of(preview.replies) if b.label == "確認發布"]
            again = await app.dispatcher.handle(IncomingMessage.from_payload("console", "T0005", send.action.pack()))
            assert "超過本月 LINE 剩餘額度" in all_text(again.replies) and "已排入發送" not in all_text(again.replies)
    finally:
        await fake.stop()
    async with app.sessions() as s:
        assert (await s.execute(select(Broadcast))).first() is None


async def test_a_city_admin_may_send_anyway_over_the_quota(app: Runtime) -> None:
    await bind_line(app, ["T0001", "T0002", "T0003"])
    await _grant(app, "T0004", "city_admin")
    fake = await FakeLine(quota_limit=200, quota_used=199).start()
    try:
        async with line_insights(app, fake):
            await run_dialog(app, "T0004", [
                Say("發布公告", intent="announce", buttons=["全市同仁"]),
                Press("全市同仁", intent="announce"),
                Say("年度訓練計畫已公布", intent="announce", shows=["需要 3 則，只剩 1 則"],
                    buttons=["仍要發送", "先不要"], hides=["確認發布"]),
                Press("仍要發送", intent="announce", shows=["已排入發送"]),
            ])
    finally:
        await fake.stop()
    async with app.sessions() as s:
        broadcast = (await s.execute(select(Broadcast))).scalar_one()
        audit = (await s.execute(select(AdminAudit).where(AdminAudit.action == "broadcasts.send"))).scalars().all()
    assert broadcast.audience == "all" and broadcast.counts["cost"] == 3
    assert [a.allowed for a in audit] == [True]


async def test_optional_in_chat_the_report_per_agency_and_line_opens_and_clicks(app: Runtime) -> None:
    await bind_line(app, ["T0001", "T0002"])
    fake = await FakeLine().start()
    try:
        async with line_insights(app, fake):
            await run_dialog(app, "T0005", [
                Say("發布公告", intent="announce"),
                Press("本機關全體", intent="announce"),
                Say("午間講座：職場溝通", intent="announce", shows=["類型：必要公告"], buttons=["改為選擇性公告"]),
                Press("改為選擇性公告", intent="announce", shows=["類型：選擇性公告", "午間講座：職場溝通"],
                      buttons=["確認發布", "改為必要公告"]),
                Press("確認發布", intent="announce", shows=["已排入發送"]),
            ])
            await _deliver(app, fake)
            [body] = [r.json for r in fake.sent("multicast")]
            assert body["messages"][-1]["quickReply"]["items"][0]["action"]["data"] == "ao|1"  # turn such ones off
            async with app.sessions() as s:
                broadcast = (await s.execute(select(Broadcast))).scalar_one()
            assert broadcast.optional
            fake.unit_stats[broadcast.unit] = {"opens": 2, "clicks": 1}
            await run_dialog(app, "T0005", [
                Say("公告紀錄", intent="announce", shows=[f"#{broadcast.id}", "已送達 2"],
                    buttons=[f"#{broadcast.id} 送達報告"]),
                Press(f"#{broadcast.id} 送達報告", intent="announce",
                      shows=[f"公告 #{broadcast.id}", f"・{HR_AGENCY}：已送達 2、待送 2",
                             "LINE 統計：開啟 2 人、點擊 1 人"]),
                Press("公告紀錄", intent="announce", shows=["最近的公告"]),
            ])
    finally:
        await fake.stop()
    await run_dialog(app, "T0003", [  # another agency's HR officer cannot open it with a forged button
        Say("你好"),
    ])
    await _grant(app, "T0003", "agency_hr", "桃園市政府環境保護局")
    from handlers.broadcast import ShowReport
    forged = await app.dispatcher.handle(IncomingMessage.from_payload("console", "T0003",
                                                                      ShowReport(broadcast.id).pack()))
    assert HR_AGENCY not in all_text(forged.replies) and "已送達" not in all_text(forged.replies)


async def test_an_officer_who_types_the_buttons_words_gets_what_the_buttons_do(app: Runtime) -> None:
    # found by trying it as HR: typed 本機關全體 searched for courses, typed 確認發布 started over and
    # 確定 answered with the binding; nothing was sent and nobody said so
    await bind_line(app, ["T0001", "T0002"])
    await run_dialog(app, "T0005", [
        Say("發布公告", intent="announce"),
        Say("本機關全體", intent="announce", shows=["請輸入公告內容"], hides=["找不到"]),
        Say("下週一起電梯保養，請改走樓梯", intent="announce", shows=["發布前確認"]),
        Say("確認發布", intent="announce", shows=["已排入發送"], hides=["要發布給哪些同仁"]),
    ])
    await run_dialog(app, "T0005", [
        Say("發布公告", intent="announce"),
        Press("本機關全體", intent="announce"),
        Say("週三消防演練", intent="announce", shows=["發布前確認"]),
        Say("確定", intent="announce", shows=["已排入發送"], hides=["已綁定"]),
    ])
    async with app.sessions() as s:
        assert len((await s.execute(select(Broadcast))).scalars().all()) == 2
