"""The conversation defects of issue 10 part 7, one dialog each (each failed before its fix)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import Runtime
from bot.conversation import IncomingMessage, MessageKind, Reply
from bot.db.models.core import ChannelAccount, OutboxMessage
from bot.services.notices import OutboxRow, enqueue_many
from tests.conftest import FrozenClock, issue_code
from tests.dialog import Press, Say, all_text, buttons_of, run_dialog

PY = "零基礎 Python 入門班｜第1期（範例）"


async def test_help_of_an_unlinked_user_explains_linking_first_with_its_button(sqlite_app: Runtime) -> None:
    [outcome] = await run_dialog(sqlite_app, "U-new", [
        Say("help", intent="help", shows=["請先綁定員工帳號", "瀏覽和搜尋課程"], buttons=["綁定帳號", "瀏覽課程"]),
    ], channel="line")
    assert next(b.label for b in buttons_of(outcome.replies)) == "綁定帳號"
    text = all_text(outcome.replies)
    assert text.index("請先綁定員工帳號") < text.index("我可以幫您")
    # a linked employee is not told to link
    await run_dialog(sqlite_app, "T0001", [Say("help", intent="help", hides=["請先綁定員工帳號", "綁定帳號\n"])])


async def test_follow_of_an_unlinked_user_explains_linking_with_its_button(sqlite_app: Runtime) -> None:
    hello = await sqlite_app.dispatcher.handle(IncomingMessage("line", "U-f", MessageKind.FOLLOW))
    assert "請先綁定員工帳號" in all_text(hello.replies)
    assert next(b.label for b in buttons_of(hello.replies)) == "綁定帳號"
    assert "使用「我的時數」前" not in all_text(hello.replies)  # not as if the user had asked for hours


async def test_after_linking_the_class_tapped_before_is_shown(sqlite_app: Runtime) -> None:
    code = await issue_code(sqlite_app, "T0002")
    await run_dialog(sqlite_app, "U-py", [
        Say("報名 python", intent="enroll", shows=[PY]),
        Press("報名這班", intent="enroll", shows=["請先綁定員工帳號"], buttons=["綁定帳號"]),
        Press("綁定帳號", intent="bind", shows=["請輸入您的員工編號"]),
        Say("T0002", intent="bind", shows=["綁定碼"]),
        Say(code, shows=["綁定完成", "接著回到您剛才的操作", "請確認報名以下班期", PY], buttons=["確認報名"]),
        Press("確認報名", intent="enroll", shows=["報名成功"]),
    ], channel="line")


async def test_the_number_prompt_knows_codes_national_ids_and_a_forgotten_number(sqlite_app: Runtime) -> None:
    code = await issue_code(sqlite_app, "T0002")
    await run_dialog(sqlite_app, "U-n", [
        Say("綁定", intent="bind"),
        Say(code, intent="bind", shows=["這看起來是綁定碼", "請先輸入員工編號"]),
        Say("我的身分證是A123456789", intent="bind", shows=["請不要輸入身分證字號"], hides=["A123456789"]),
        Say("我忘記員工編號了", intent="bind", shows=["人事室"], hides=["不像員工編號"]),
        Say("T0002", intent="bind", shows=["綁定碼"]),
        Say(code, intent="bind", shows=["綁定完成"]),
    ], channel="line")
    # the code was not used up as an employee number: no failed attempt for "K7PM…"
    async with sqlite_app.sessions() as s:
        account = (await s.execute(select(ChannelAccount).where(ChannelAccount.external_id == "U-n"))).scalar_one()
    assert account.employee_id is not None
    assert "A123456789" not in str(account.state_data)


async def test_a_national_id_outside_any_flow_is_warned_about_not_searched(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "U-id", [
        Say("我的身分證是A123456789", shows=["請不要傳送身分證字號"], hides=["A123456789", "找不到"]),
        Say("我忘記員工編號了", intent="bind", shows=["人事室"], buttons=["綁定帳號"]),
    ], channel="line")


async def test_after_a_lock_out_a_typed_code_is_not_echoed(sqlite_app: Runtime, clock: FrozenClock) -> None:
    code = await issue_code(sqlite_app, "T0002")
    wrong = "".join("A" if ch != "A" else "B" for ch in code if ch != "-")
    for _ in range(5):
        await run_dialog(sqlite_app, "U-lock", [Say(f"綁定 T0002 {wrong}")], channel="line")
    await run_dialog(sqlite_app, "U-lock", [
        Say(f"綁定 T0002 {code}", shows=["嘗試次數過多"]),
        Say(code, intent="bind", shows=["鎖定中"], hides=[code, code.replace("-", ""), "找不到"]),
        Say("T0002", intent="bind", shows=["鎖定中"], hides=["T0002"]),
        Say("python", intent="search", shows=[PY.split("｜")[0]]),   # anything else is answered as usual
    ], channel="line")
    clock.advance(timedelta(minutes=61))
    await run_dialog(sqlite_app, "U-lock", [Say(f"綁定 T0002 {code}", shows=["綁定完成"])], channel="line")


async def test_a_long_message_is_never_echoed_whole_and_too_long_keeps_the_menu(sqlite_app: Runtime) -> None:
    long_text = "我昨天跟同事聊到永續發展和淨零碳排的事情覺得很有意思" * 20
    [outcome] = await run_dialog(sqlite_app, "T0001", [Say(long_text)])
    assert long_text not in all_text(outcome.replies)
    assert "…" in all_text(outcome.replies)
    await run_dialog(sqlite_app, "T0001", [
        Say("課" * 2100, intent="unknown", shows=["訊息太長"], buttons=["瀏覽課程", "我的時數"]),
    ])


async def test_a_refollow_delivers_the_notices_missed_meanwhile(sqlite_app: Runtime, clock: FrozenClock) -> None:
    app = sqlite_app
    await app.dispatcher.handle(IncomingMessage("line", "U-back", MessageKind.FOLLOW))
    await app.dispatcher.handle(IncomingMessage("line", "U-back", MessageKind.UNFOLLOW))
    async with app.sessions.begin() as s:
        account = (await s.execute(select(ChannelAccount).where(ChannelAccount.external_id == "U-back"))).scalar_one()
        old = OutboxRow(account.id, "line", False, [Reply.plain("old").to_dict()], "t-old")
        new = OutboxRow(account.id, "line", False, [Reply.plain("您已遞補").to_dict()], "t-new")
        await enqueue_many(s, [old], now=clock.now() - timedelta(days=30))
        await enqueue_many(s, [new], now=clock.now())
    hello = await app.dispatcher.handle(IncomingMessage("line", "U-back", MessageKind.FOLLOW))
    assert "1 則通知" in all_text(hello.replies)
    async with app.sessions() as s:
        rows = {r.dedupe_key: r.status for r in (await s.execute(select(OutboxMessage))).scalars()}
    assert rows["t-new"] == "pending" and rows["t-old"] == "skipped"
    # following again without anything missed says nothing of notices
    again = await app.dispatcher.handle(IncomingMessage("line", "U-back", MessageKind.FOLLOW))
    assert "則通知" not in all_text(again.replies)


async def test_the_hours_view_leads_its_suggestions_with_open_classes_that_fill_the_gap(sqlite_app: Runtime) -> None:
    [outcome] = await run_dialog(sqlite_app, "T0001", [Say("我還差幾小時", intent="hours")])
    texts = [all_text([r]) for r in outcome.replies]
    at = next(n for n, t in enumerate(texts) if "現在就能報名" in t)
    assert "環境教育" in texts[at] and "臺灣淨零碳排策略及挑戰｜線上直播（範例）" in texts[at]   # DEMO-ENV-01
    assert "報名這班" in texts[at]
    assert at == len(texts) - 2 and outcome.replies[-1].cards                # the course ideas come after
    # a class the user holds a seat in is not suggested again
    await run_dialog(sqlite_app, "T0001", [
        Say("報名 淨零碳排", intent="enroll"), Press("報名這班"), Press("確認報名", shows=["報名成功"])])
    [again] = await run_dialog(sqlite_app, "T0001", [Say("我還差幾小時", intent="hours")])
    assert "臺灣淨零碳排策略及挑戰｜線上直播（範例）" not in all_text(again.replies)


async def _class_id(app: Runtime, code: str) -> int:
    from bot.db.models.classes import TrainingClass

    async with app.sessions() as s:
        return int((await s.execute(select(TrainingClass.id).where(TrainingClass.code == code))).scalar_one())


async def test_my_enrollments_counts_the_waitlist_apart_and_a_cancelled_class_is_not_coming_up(
        sqlite_app: Runtime) -> None:
    from bot.services.classes.changes import cancel_class

    app = sqlite_app
    await run_dialog(app, "T0004", [
        Say("報名 時間管理", intent="enroll"), Press("候補這班"), Press("加入候補", shows=["候補第 2 位"]),
        Say("報名 python", intent="enroll"), Press("報名這班"), Press("確認報名", shows=["報名成功"]),
        Say("我的報名", intent="my_enrollments", shows=["即將上課 1 班、候補中 1 班"], hides=["即將上課 2"]),
    ])
    async with app.sessions.begin() as s:
        await cancel_class(s, await _class_id(app, "DEMO-PY-01"), now=app.clock.now(), deps=app.app.deps)
    [mine] = await run_dialog(app, "T0004", [
        Say("我的報名", intent="my_enrollments", shows=["即將上課 0 班、候補中 1 班、班期已取消 1 班"]),
    ])
    titles = [c.title for r in mine.replies for c in r.cards]
    assert titles.index(PY) > titles.index("我要成為時間管理大師｜第1期（範例，名額已滿）")   # cancelled ones last


async def test_after_the_cancel_deadline_the_card_says_whom_to_ask(sqlite_app: Runtime, clock: FrozenClock) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("報名 python", intent="enroll"), Press("報名這班"), Press("確認報名", shows=["報名成功"])])
    clock.advance(timedelta(days=8))            # registration (and self-cancelling) closed 113年3月8日 17:00
    await run_dialog(sqlite_app, "T0001", [
        Say("我的報名", intent="my_enrollments", shows=["已過取消期限", "人事室"]),
    ])


def test_two_meetings_on_one_day_show_the_date_once() -> None:
    from datetime import UTC, datetime

    from bot.services.classes import format as fmt
    from bot.services.classes.notices import ClassFacts, MeetingFacts
    from bot.texts import MessageCatalog

    texts = MessageCatalog.load()
    day = datetime(2024, 3, 20, 1, 0, tzinfo=UTC)        # 09:00 in Taipei
    facts = ClassFacts("B1-3-1", "", (MeetingFacts(day, day + timedelta(hours=3)),
                                      MeetingFacts(day + timedelta(hours=4, minutes=30), day + timedelta(hours=7)),
                                      MeetingFacts(day + timedelta(days=7), day + timedelta(days=7, hours=3))),
                       "", None, __import__("decimal").Decimal(3), "other", None, day)
    zh = fmt.meetings_text(facts, "zh-TW", lambda k, **v: texts.get(k, "zh-TW", **v))
    assert zh.count("113年3月20日") == 1 and "09:00–12:00、13:30–16:00" in zh and "113年3月27日" in zh
    en = fmt.meetings_text(facts, "en", lambda k, **v: texts.get(k, "en", **v))
    assert "09:00–12:00, 13:30–16:00" in en
