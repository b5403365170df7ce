"""Conversations with the handlers, as dialog tables (SQLite; the data layer runs on both in test_db)."""

from __future__ import annotations

from bot.bootstrap import Runtime
from bot.conversation import IncomingMessage, MessageKind
from tests.dialog import Press, Say, run_dialog


async def test_browse_tracks_categories_and_detail(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("課程", intent="browse", buttons=["A｜打磨必備職能", "B｜智慧創新素養", "C｜自我覺察療癒"]),
        Press("A｜打磨必備職能", intent="browse", shows=["打磨必備職能"], buttons=["領導管理訓練", "專業職能訓練"]),
        Press("專業職能訓練", intent="browse", shows=["新進人員專班", "法規保健防身術系列"]),
        Say("B", intent="browse", shows=["數位雙生系列", "區塊鏈系列"]),
        Press("看介紹", intent="course", shows=["數位雙生系列", "本系列共", "3D列印初體驗"],
              buttons=["3D列印初體驗"]),
        Press("3D列印初體驗", intent="course", shows=["屬於：數位雙生系列"], buttons=["看整個系列", "開課班期"]),
        Press("看整個系列", intent="course", shows=["本系列共"]),
    ])


async def test_search_by_words_typos_english_simplified(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("python", intent="search", shows=["零基礎 Python 入門班"]),
        Say("pyhton", intent="search", shows=["零基礎 Python 入門班"]),
        Say("time management", intent="search", shows=["我要成為時間管理大師"]),
        Say("区块链", intent="search", shows=["區塊鏈技術與應用入門"]),
        Say("勞動基準法", intent="search", shows=["勞基法實務案例探討"]),
        Say("危機管理", intent="search", shows=["高階主管育成班"]),
        Press("看介紹", intent="course", shows=["危機管理（含風險管理）"]),
    ])


async def test_search_pages_with_more_and_a_stale_more_button(sqlite_app: Runtime) -> None:
    outcomes = await run_dialog(sqlite_app, "T0001", [
        Say("AI", intent="search", shows=["第 1–5 筆"], buttons=["更多結果"]),
        Press("更多結果", intent="search", shows=["第 6–"]),
    ])
    first_titles = {c.title for c in outcomes[0].replies[0].cards}
    second_titles = {c.title for c in outcomes[1].replies[0].cards}
    assert first_titles and second_titles and not first_titles & second_titles
    # After the user moved on, an old "more" button no longer knows the query.
    more = next(c for c in outcomes[0].replies[0].choices if c.label == "更多結果")
    await run_dialog(sqlite_app, "T0001", [Say("課程", intent="browse")])
    stale = await sqlite_app.dispatcher.handle(IncomingMessage(
        channel="console", user_id="T0001", kind=MessageKind.ACTION, action=more.action))
    assert "過期" in stale.replies[0].text
    # Nor can it page a newer query that also has more pages.
    await run_dialog(sqlite_app, "T0001", [Say("管理", intent="search", buttons=["更多結果"])])
    crossed = await sqlite_app.dispatcher.handle(IncomingMessage(
        channel="console", user_id="T0001", kind=MessageKind.ACTION, action=more.action))
    assert "過期" in crossed.replies[0].text


async def test_nothing_found_offers_the_menu(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("颱風假", intent="unknown", shows=["找不到與「颱風假」相關的課程"], buttons=["瀏覽課程"]),
    ])


async def test_language_switch_is_remembered(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("English", intent="help", shows=["Switched to English"], buttons=["Browse courses"]),
        Say("python", intent="search", shows=["Python for Absolute Beginners", "Details"]),
        Say("中文", intent="help", shows=["已切換為中文"]),
        Say("python", intent="search", shows=["零基礎 Python 入門班"], hides=["Python for Absolute Beginners"]),
    ])


async def test_later_features_answer_honestly(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("我還差幾小時", intent="hours", shows=["還差"]),  # the hours view itself: tests/accounts
        Say("我的報名", intent="my_enrollments"),
        Say("報名 python", intent="enroll"),
        Say("取消報名", intent="cancel_enrollment"),
        Say("證書", intent="certificate"),
        Say("綁定", intent="bind"),
    ])
    # A chat user nobody has bound is asked to bind first.
    await run_dialog(sqlite_app, "U-stranger", [
        Say("我還差幾小時", intent="hours", shows=["請先綁定員工帳號"], hides=["身分證", "密碼"]),
    ], channel="line")


async def test_forged_button_and_unknown_item_are_answered_politely(sqlite_app: Runtime) -> None:
    forged = await sqlite_app.dispatcher.handle(IncomingMessage.from_payload("line", "U1", "drop|table"))
    assert forged.intent == "unknown" and "失效" in forged.replies[0].text
    stale = await sqlite_app.dispatcher.handle(IncomingMessage.from_payload("line", "U1", "i|Z9-9"))
    assert stale.intent == "unknown" and "找不到這門課程" in stale.replies[0].text


async def test_odd_input(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("", intent="help"),
        Say("🙂🙂", intent="unknown"),
        Say("x" * 5000, intent="unknown", shows=["訊息太長"]),
        Say("\u202e\u200b", intent="help"),
        Say("ＰＹＴＨＯＮ", intent="search", shows=["零基礎 Python 入門班"]),
    ])


async def test_a_question_mark_asks_for_help(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("?", intent="help", shows=["我可以幫您"], hides=["找不到"], buttons=["瀏覽課程"]),
        Say("？", intent="help", shows=["我可以幫您"], hides=["找不到"]),
        Say("??", intent="help", shows=["我可以幫您"], hides=["找不到"]),
        Say("？？", intent="help", shows=["我可以幫您"], hides=["找不到"]),
    ])


async def test_text_with_nothing_to_search_gets_the_menu_not_a_search(sqlite_app: Runtime) -> None:
    await run_dialog(sqlite_app, "T0001", [
        Say("?!", intent="unknown", shows=["請輸入想找的課程關鍵字"], hides=["找不到"], buttons=["瀏覽課程"]),
        Say("。。。", intent="unknown", shows=["請輸入想找的課程關鍵字"], hides=["找不到"], buttons=["瀏覽課程"]),
        Say("🙂🙂", intent="unknown", shows=["請輸入想找的課程關鍵字"], hides=["找不到"]),
    ])


async def test_follow_greets_and_unfollow_marks_unreachable(sqlite_app: Runtime) -> None:
    from sqlalchemy import select

    from bot.db.models.core import ChannelAccount

    hello = await sqlite_app.dispatcher.handle(IncomingMessage("line", "U9", MessageKind.FOLLOW))
    assert "綁定" in "\n".join(r.text for r in hello.replies)
    bye = await sqlite_app.dispatcher.handle(IncomingMessage("line", "U9", MessageKind.UNFOLLOW))
    assert bye.replies == []
    async with sqlite_app.sessions() as s:
        account = (await s.execute(select(ChannelAccount).where(ChannelAccount.external_id == "U9"))).scalar_one()
    assert account.reachable is False


async def test_every_route_for_linked_employees_asks_a_stranger_to_link_first(sqlite_app: Runtime) -> None:
    """The dispatcher, not each handler, answers a needs_link route for an unlinked chat user."""
    import dataclasses

    from bot.conversation import Action

    routes = sqlite_app.dispatcher.routes
    gated_actions = [kind for kind, route in routes.actions.items() if route.needs_link]
    gated_texts = {"時數": "hours", "查時數 T0002": "hours_of", "我的報名": "my_enrollments",
                   "取消報名": "cancel_enrollment", "遞補 DEMO-TM-01 T0001 T0002": "substitute"}
    assert len(gated_actions) >= 6 and all(routes.intents[name].needs_link for name in gated_texts.values())
    messages = [IncomingMessage(channel="line", user_id="U-stranger", kind=MessageKind.ACTION,
                                action=Action.unpack("|".join([kind.kind, *["1"] * len(dataclasses.fields(kind))])))
                for kind in gated_actions]
    messages += [IncomingMessage.from_text("line", "U-stranger", text) for text in gated_texts]
    for msg in messages:
        outcome = await sqlite_app.dispatcher.handle(msg)
        expected = (routes.actions[type(msg.action)] if msg.action else routes.intents[gated_texts[msg.text]])
        feature = sqlite_app.texts.get(f"feature.{expected.needs_link}", "zh-TW")
        assert outcome.intent == expected.intent, msg
        assert f"使用「{feature}」前，請先綁定員工帳號" in outcome.replies[0].text, msg
        assert "綁定帳號" in [c.label for c in outcome.replies[0].choices], msg
