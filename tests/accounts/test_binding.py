"""Binding chat accounts with one-time codes: the flow, the code's life, and the brute-force limit."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.bootstrap import Runtime, build_app
from bot.clock import FrozenClock
from bot.db.models.accounts import BindingAttempt, BindingCode
from bot.db.models.core import ChannelAccount, Employee
from bot.services.accounts import load_policy, normalize_code, verify_code
from tests.conftest import base_settings, issue_code
from tests.dialog import Press, Say, run_dialog

WRONG = "員工編號或綁定碼不正確"
LOCKED = "嘗試次數過多"


async def bound_to(app: Runtime, channel: str, user: str) -> str | None:
    async with app.sessions() as s:
        stmt = (select(Employee.employee_no).join(ChannelAccount, ChannelAccount.employee_id == Employee.id)
                .where(ChannelAccount.channel == channel, ChannelAccount.external_id == user))
        return (await s.execute(stmt)).scalar_one_or_none()


def wrong_code(code: str) -> str:
    """A code of the right shape that is not ``code``."""
    return "".join("A" if ch != "A" else "B" for ch in code if ch != "-")


async def test_bind_step_by_step_then_hours_work_and_the_code_is_spent(sqlite_app: Runtime) -> None:
    code = await issue_code(sqlite_app, "T0002")
    await run_dialog(sqlite_app, "U-new", [
        Say("我還差幾小時", intent="hours", shows=["請先綁定員工帳號"], buttons=["綁定帳號"]),
        Press("綁定帳號", intent="bind", shows=["請輸入您的員工編號"]),
        Say("ｔ0002", intent="bind", shows=["一次性綁定碼", "8 碼"]),
        Say(code.lower().replace("-", " "), intent="bind", shows=["綁定完成", "示範員工乙（範例）"]),
        Say("我還差幾小時", intent="hours", shows=["示範員工乙（範例）", "還差"]),
    ], channel="line")
    assert await bound_to(sqlite_app, "line", "U-new") == "T0002"
    # the code is spent: another chat user cannot use it
    await run_dialog(sqlite_app, "U-other", [
        Say(f"綁定 T0002 {code}", intent="bind", shows=[WRONG]),
    ], channel="line")
    assert await bound_to(sqlite_app, "line", "U-other") is None


async def test_a_wrong_code_and_an_unknown_number_read_the_same(sqlite_app: Runtime) -> None:
    code = await issue_code(sqlite_app, "T0002")
    first = await run_dialog(sqlite_app, "U-a", [Say("綁定"), Say("T0002"), Say(wrong_code(code))], channel="line")
    second = await run_dialog(sqlite_app, "U-b", [Say("綁定"), Say("X9999"), Say(wrong_code(code))], channel="line")
    assert first[-1].replies[0].text == second[-1].replies[0].text
    assert WRONG in first[-1].replies[0].text and "T0002" not in first[-1].replies[0].text
    # after a wrong code the flow asks for the number again
    await run_dialog(sqlite_app, "U-a", [Say("T0002", shows=["綁定碼"]), Say(code, shows=["綁定完成"])],
                     channel="line")


async def test_five_failures_lock_the_chat_user_for_an_hour(app: Runtime, clock: FrozenClock) -> None:
    code = await issue_code(app, "T0002")
    for _ in range(5):
        await run_dialog(app, "U-guess", [Say(f"綁定 T0002 {wrong_code(code)}", shows=[WRONG])], channel="telegram")
    # even the right code is not checked while locked
    await run_dialog(app, "U-guess", [Say(f"綁定 T0002 {code}", shows=[LOCKED, "60 分鐘"])], channel="telegram")
    await run_dialog(app, "U-guess", [Say("綁定"), Say("T0002", shows=[LOCKED])], channel="telegram")
    assert await bound_to(app, "telegram", "U-guess") is None
    clock.advance(timedelta(minutes=61))
    await run_dialog(app, "U-guess", [Say(f"綁定 T0002 {code}", shows=["綁定完成"])], channel="telegram")


async def test_the_limit_per_employee_holds_across_users_and_processes(db_url: str, clock: FrozenClock) -> None:
    one = await build_app(base_settings(db_url), clock=clock, demo=True)
    two = await build_app(base_settings(db_url), clock=clock, demo=False)   # a second process, same database
    try:
        code = await issue_code(one, "T0002")
        for n in range(5):
            worker = one if n % 2 else two
            await run_dialog(worker, f"U-bot{n}", [Say(f"綁定 T0002 {wrong_code(code)}", shows=[WRONG])],
                             channel="line")
        await run_dialog(two, "U-real", [Say(f"綁定 T0002 {code}", shows=[LOCKED])], channel="line")
        # other employees are not affected
        code3 = await issue_code(one, "T0003")
        await run_dialog(one, "U-other", [Say(f"綁定 T0003 {code3}", shows=["綁定完成"])], channel="line")
        async with one.sessions() as s:
            failures = (await s.execute(select(func.count()).select_from(BindingAttempt).where(
                BindingAttempt.employee_no == "T0002", BindingAttempt.succeeded.is_(False)))).scalar_one()
        assert failures == 5
    finally:
        await one.close()
        await two.close()


async def test_codes_are_stored_hashed_expire_and_reissue_revokes(app: Runtime, clock: FrozenClock) -> None:
    old = await issue_code(app, "T0004")
    new = await issue_code(app, "T0004")
    async with app.sessions() as s:
        rows = list((await s.execute(select(BindingCode))).scalars())
    assert all(normalize_code(old) not in r.code_hash and normalize_code(new) not in r.code_hash for r in rows)
    assert any(verify_code(normalize_code(new), r.code_hash) for r in rows)
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", new)        # no 0/O, 1/I/L
    await run_dialog(app, "U-x", [Say(f"綁定 T0004 {old}", shows=[WRONG])], channel="line")   # revoked
    clock.advance(timedelta(days=load_policy(app.settings.data_dir).valid_days, seconds=1))
    await run_dialog(app, "U-x", [Say(f"綁定 T0004 {new}", shows=[WRONG])], channel="line")   # expired


async def test_line_and_telegram_both_and_a_new_line_account_replaces_the_old(sqlite_app: Runtime) -> None:
    for channel, user in (("line", "U-phone1"), ("telegram", "42")):
        code = await issue_code(sqlite_app, "T0003")
        await run_dialog(sqlite_app, user, [Say(f"綁定 T0003 {code}", shows=["綁定完成"])], channel=channel)
    assert await bound_to(sqlite_app, "line", "U-phone1") == "T0003"
    assert await bound_to(sqlite_app, "telegram", "42") == "T0003"
    code = await issue_code(sqlite_app, "T0003")
    await run_dialog(sqlite_app, "U-phone2", [Say(f"link account T0003 {code}", shows=["綁定完成", "自動解除"])],
                     channel="line")
    assert await bound_to(sqlite_app, "line", "U-phone1") is None
    assert await bound_to(sqlite_app, "line", "U-phone2") == "T0003"
    assert await bound_to(sqlite_app, "telegram", "42") == "T0003"


async def test_unbind_asks_first(sqlite_app: Runtime) -> None:
    code = await issue_code(sqlite_app, "T0002")
    await run_dialog(sqlite_app, "U-u", [
        Say("解除綁定", intent="bind", shows=["沒有綁定"]),
        Say(f"綁定 T0002 {code}", shows=["綁定完成"]),
        Say("綁定", intent="bind", shows=["已綁定為 示範員工乙（範例）", "解除綁定"]),
        Say("解除綁定", intent="bind", shows=["確定要解除"], buttons=["確定解除", "不用了"]),
        Press("不用了", intent="help"),
        Say("unlink", intent="bind", shows=["確定要解除"]),
        Press("確定解除", intent="bind", shows=["已解除綁定"]),
        Say("我還差幾小時", intent="hours", shows=["請先綁定員工帳號"]),
    ], channel="line")


async def test_leaving_the_flow(sqlite_app: Runtime, clock: FrozenClock) -> None:
    await run_dialog(sqlite_app, "U-f", [
        Say("綁定", intent="bind"),
        Say("取消", intent="bind", shows=["已取消綁定"]),
        Say("綁定", intent="bind"),
        Say("我還差幾小時", intent="hours", shows=["請先綁定"]),   # another command leaves the flow
        Say("綁定", intent="bind"),
        Say("說明", intent="help"),                                # escapes always work
        Say("綁定", intent="bind"),
        Say("請問怎麼辦", intent="bind", shows=["不像員工編號"]),
        Say("T0002", intent="bind", shows=["綁定碼"]),
        Say("不知道", intent="bind", shows=["8 碼英文字母與數字"]),
    ], channel="line")
    clock.advance(timedelta(minutes=20))
    await run_dialog(sqlite_app, "U-f", [Say("ABCDEFGH", intent="bind", shows=["已逾時"])], channel="line")
    async with sqlite_app.sessions() as s:
        attempts = (await s.execute(select(func.count()).select_from(BindingAttempt))).scalar_one()
    assert attempts == 0                                            # nothing was ever checked


async def test_never_asks_for_a_national_id_or_password(sqlite_app: Runtime) -> None:
    outcomes = await run_dialog(sqlite_app, "U-n", [
        Say("綁定", shows=["員工編號"]),
        Say("A123456789", shows=["請不要輸入身分證字號"]),
        Say("綁定 B223456789", shows=["請不要輸入身分證字號"]),
        Say("T0002", shows=["綁定碼"]),
    ], channel="line")
    asking = re.compile(r"(請輸入|輸入您的|please type|enter)[^。.！!]*(身分證|密碼|national id|password)", re.I)
    for outcome in outcomes:
        for reply in outcome.replies:
            assert not asking.search(reply.text), reply.text
    async with sqlite_app.sessions() as s:
        stored = repr((await s.execute(select(BindingAttempt.employee_no, ChannelAccount.state_data)
                                        .join(ChannelAccount, ChannelAccount.external_id == BindingAttempt.external_id,
                                              isouter=True))).all())
        state = (await s.execute(select(ChannelAccount.state_data).where(
            ChannelAccount.external_id == "U-n"))).scalar_one()
    assert "A123456789" not in stored + repr(state) and "B223456789" not in stored + repr(state)


async def test_the_flow_in_english(sqlite_app: Runtime) -> None:
    code = await issue_code(sqlite_app, "T0002")
    await run_dialog(sqlite_app, "U-en", [
        Say("English"),
        Say("link account", intent="bind", shows=["Please type your employee number"], buttons=["Cancel"]),
        Say("T0002", intent="bind", shows=["one-time linking code", "8 letters and digits"]),
        Say(wrong_code(code), intent="bind", shows=["The employee number or the code is not right"]),
        Say("T0002", intent="bind"),
        Say(code, intent="bind", shows=["Linked! Hello 示範員工乙（範例）"], buttons=["My hours"]),
        Press("My hours", intent="hours", shows=["learning hours, plan year 2024 (ROC 113)"]),
        Say("unlink", intent="bind", shows=["Unlink this account"], buttons=["Yes, unlink", "No, keep it"]),
        Press("Yes, unlink", intent="bind", shows=["Unlinked"]),
    ], channel="telegram")
