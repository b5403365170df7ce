"""The announcement flow in chat, as dialog tables.

An agency HR officer announces to their agency's people with a mandatory-hours gap, sees the count and the
cost, confirms, and reads the report; employees are refused, a bad text is explained, 取消 stops the flow.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import insert, select

from bot.bootstrap import Runtime
from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.db.models.broadcasts import Broadcast
from bot.db.models.core import ChannelAccount, Employee
from bot.metrics import Metrics
from bot.services.broadcasts import ChunkDeliverer
from bot.services.notices import DeliveryWorker
from tests.dialog import Press, Say, run_dialog
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
