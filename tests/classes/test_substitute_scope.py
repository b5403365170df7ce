"""The chat 遞補 command checks the officer's scope first and says nothing about people outside it.

Demo data (clock at 113-03-01): T0005 is agency HR of 桃園市政府人事處; DEMO-TM-01 seats T0001 (人事處) and
T0003 (環境保護局), T0002 (人事處, with a chat account) waits; T0004 is of 青年事務局, T0006 of 環境保護局.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.conversation import IncomingMessage, MessageKind
from bot.db.models.accounts import AdminAudit
from tests.classes.conftest import outbox_texts
from tests.dialog import Press, Say, all_text, run_dialog

OTHERS = ("示範主管丙", "示範約聘丁", "示範臨時己", "環境保護局", "青年事務局", "T0999", "NOPE-01")


async def audit(app: Runtime) -> list[tuple[str, bool, str]]:
    async with app.sessions() as s:
        rows = (await s.execute(select(AdminAudit).where(AdminAudit.action == "classes.substitute")
                                .order_by(AdminAudit.id))).scalars().all()
    return [(r.target, r.allowed, r.detail) for r in rows]


async def test_out_of_scope_and_unknown_targets_get_one_sentence(sqlite_app: Runtime) -> None:
    asks = ["遞補 DEMO-TM-01 T0003 T0006",      # a seat holder of another agency
            "遞補 DEMO-TM-01 T0006 T0003",      # another agency's colleague without a seat
            "遞補 DEMO-TM-01 T0999 T0002",      # no such employee number
            "遞補 NOPE-01 T0001 T0002",         # no such class
            "遞補 DEMO-TM-01 T0001 T0004"]      # the substitute is of another agency
    outcomes = await run_dialog(sqlite_app, "T0005", [Say(a, intent="enroll") for a in asks])
    texts = [all_text(o.replies) for o in outcomes]
    assert len(set(texts)) == 1, texts                                   # one and the same answer
    assert "您只能為自己機關的同仁安排遞補" in texts[0] and "不是桃園市政府人事處的同仁" in texts[0]
    assert not [o for o in OTHERS if o in texts[0]]                      # no name, agency or number of theirs
    assert [(target, allowed) for target, allowed, _ in await audit(sqlite_app)] == [
        ("DEMO-TM-01 T0003>T0006", False), ("DEMO-TM-01 T0006>T0003", False), ("DEMO-TM-01 T0999>T0002", False),
        ("NOPE-01 T0001>T0002", False), ("DEMO-TM-01 T0001>T0004", False)]


async def test_a_refusal_at_the_confirmation_is_audited_as_refused(sqlite_app: Runtime, clock: FrozenClock) -> None:
    [preview] = await run_dialog(sqlite_app, "T0005", [Say("遞補 DEMO-TM-01 T0001 T0002", shows=["遞補嗎"])])
    confirm = next(b for r in preview.replies for b in r.choices if b.label == "確定遞補")
    clock.set(datetime(2024, 3, 7, 9, 0, tzinfo=TAIPEI))                   # pressed after the registration deadline
    late = await sqlite_app.dispatcher.handle(IncomingMessage(channel="console", user_id="T0005",
                                                              kind=MessageKind.ACTION, action=confirm.action))
    assert "須在報名截止前完成遞補" in all_text(late.replies)
    assert [(allowed, detail) for _t, allowed, detail in await audit(sqlite_app)] == [
        (False, "classes.refuse.sub_deadline")]                           # refused, so not allowed=1


async def test_who_is_told_is_said_as_it_is(sqlite_app: Runtime) -> None:
    # T0001 has no chat account in the demo data; T0002 has one
    await run_dialog(sqlite_app, "T0005", [
        Say("遞補 DEMO-TM-01 T0001 T0002", shows=["示範員工乙（範例） 會收到通知；示範員工甲（範例） 尚未綁定聊天帳號"],
            hides=["兩位同仁都會收到通知"]),
        Press("確定遞補", shows=["已完成遞補", "示範員工甲（範例） 尚未綁定聊天帳號"], hides=["兩位同仁都會收到通知"]),
    ])
    keys = [k.split(":")[0] for k, _t in await outbox_texts(sqlite_app, "class-sub-")]
    assert keys == ["class-sub-in"]                                      # the one notice there is
    assert [(allowed, detail) for _t, allowed, detail in await audit(sqlite_app)] == [(True, "")]
