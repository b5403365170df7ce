"""The satisfaction survey (both databases): invited when the class ends, answered with buttons, once, anonymously."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import inspect, select

from bot.bootstrap import Runtime
from bot.clock import TAIPEI, FrozenClock
from bot.conversation import Choice, IncomingMessage, MessageKind, Reply
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.db.models.reminders import SurveyAnswer
from bot.dispatcher import Outcome
from bot.services.accounts import bind_console_account
from bot.services.reminders import survey_report
from tests.classes.conftest import add_classes, class_id, enroll_as, spec
from tests.dialog import all_text, buttons_of

ENDS = datetime(2024, 3, 20, 12, 0, tzinfo=TAIPEI)


async def trainee_of_a_class_that_ends(app: Runtime) -> tuple[int, int]:
    """T0001 (the demo employee, chatting in the console) holds a seat in a class ending 113/3/20 12:00."""
    await add_classes(app, spec("S-1", meetings=(("2024-03-20", "09:00", "12:00"),)))
    cid = await class_id(app, "S-1")
    async with app.sessions.begin() as s:
        account = await bind_console_account(s, "T0001", lang="zh-TW", now=app.clock.now())
        employee_id = int(account.employee_id or 0)
    assert (await enroll_as(app, cid, employee_id)).outcome == "enrolled"
    return cid, employee_id


async def sweep(app: Runtime, at: datetime) -> dict[str, int]:
    assert app.app.reminders is not None
    async with app.sessions.begin() as s:
        return dict((await app.app.reminders.sweep(s, at)).queued)


async def invitation_buttons(app: Runtime, kind: str = "surveys.invite") -> tuple[str, list[Choice]]:
    async with app.sessions() as s:
        row = (await s.execute(select(OutboxMessage).join(ChannelAccount).where(
            OutboxMessage.kind == kind, ChannelAccount.external_id == "T0001"))).scalar_one()
    replies = [Reply.from_dict(d) for d in row.payload]
    return all_text(replies), buttons_of(replies)


async def press(app: Runtime, buttons: list[Choice], label: str) -> Outcome:
    (choice,) = [b for b in buttons if b.label == label]
    return await app.dispatcher.handle(IncomingMessage(channel="console", user_id="T0001", kind=MessageKind.ACTION,
                                                       text=label, action=choice.action))


async def say(app: Runtime, text: str) -> Outcome:
    return await app.dispatcher.handle(IncomingMessage.from_text("console", "T0001", text))


async def test_a_trainee_is_invited_when_the_class_ends_answers_with_buttons_and_only_once(
        app: Runtime, clock: FrozenClock) -> None:
    cid, _ = await trainee_of_a_class_that_ends(app)
    assert "surveys.invite" not in await sweep(app, datetime(2024, 3, 20, 11, 59, tzinfo=TAIPEI))
    assert (await sweep(app, ENDS))["surveys.invite"] == 1
    text, buttons = await invitation_buttons(app)
    assert "匿名滿意度問卷" in text and "問題 1/3" in text
    assert [b.label for b in buttons] == ["1", "2", "3", "4", "5"]
    clock.set(ENDS)
    second = await press(app, buttons, "4")
    assert "問題 2/3" in all_text(second.replies)
    third = await press(app, buttons_of(second.replies), "5")
    assert "問題 3/3" in all_text(third.replies) and "略過" in all_text(third.replies)
    done = await say(app, "講師很用心，希望多開幾班")
    assert "謝謝您的回饋" in all_text(done.replies)
    again = await press(app, buttons, "1")  # the invitation's buttons pressed once more
    assert "已經填過了" in all_text(again.replies)

    assert app.app.reminders is not None
    async with app.sessions() as s:
        report = await survey_report(s, app.app.reminders.ctx.settings.survey, cid)
    assert (report.invited, report.responses) == (1, 1)
    overall, useful, comment = report.questions
    assert (overall.answers, str(overall.mean), overall.counts[4]) == (1, "4.00", 1)
    assert str(useful.mean) == "5.00"
    assert comment.texts == ["講師很用心，希望多開幾班"]


async def test_the_stored_answers_hold_nothing_that_leads_back_to_the_person(app: Runtime, clock: FrozenClock) -> None:
    cid, employee_id = await trainee_of_a_class_that_ends(app)
    await sweep(app, ENDS)
    _, buttons = await invitation_buttons(app)
    clock.set(ENDS)
    second = await press(app, buttons, "3")
    third = await press(app, buttons_of(second.replies), "3")
    await press(app, buttons_of(third.replies), "略過")
    columns = {c.name for c in inspect(SurveyAnswer).columns}
    assert columns == {"id", "response_id", "question_id", "class_id", "score", "text"}
    async with app.sessions() as s:
        rows = (await s.execute(select(SurveyAnswer))).scalars().all()
        number = (await s.execute(select(Employee.employee_no).where(Employee.id == employee_id))).scalar_one()
    assert len(rows) == 2 and {r.class_id for r in rows} == {cid}
    stored = json.dumps([[r.id, r.response_id, r.question_id, r.score, r.text] for r in rows], ensure_ascii=False)
    assert abs(rows[0].id - rows[1].id) > 1  # random keys, not a sequence that tells the order of arrival
    assert number not in stored and "T0001" not in stored


async def test_one_reminder_if_unanswered_and_none_once_answered(app: Runtime, clock: FrozenClock) -> None:
    await trainee_of_a_class_that_ends(app)
    await sweep(app, ENDS)
    later = datetime(2024, 3, 22, 12, 0, tzinfo=TAIPEI)
    assert (await sweep(app, later))["surveys.reminder"] == 1
    assert "surveys.reminder" not in await sweep(app, later)
    text, _ = await invitation_buttons(app, "surveys.reminder")
    assert "還沒填" in text


async def test_someone_who_answered_gets_no_reminder(app: Runtime, clock: FrozenClock) -> None:
    await trainee_of_a_class_that_ends(app)
    await sweep(app, ENDS)
    _, buttons = await invitation_buttons(app)
    clock.set(ENDS)
    second = await press(app, buttons, "5")
    third = await press(app, buttons_of(second.replies), "5")
    await press(app, buttons_of(third.replies), "略過")
    assert "surveys.reminder" not in await sweep(app, datetime(2024, 3, 22, 12, 0, tzinfo=TAIPEI))
