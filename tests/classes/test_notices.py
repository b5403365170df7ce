"""Class notices: the class travels as JSON facts, and start-up refuses a notice kind nothing can write."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import handlers.notices
from bot.bootstrap import Runtime, load_app
from bot.db.models.classes import ClassMeeting, TrainingClass
from bot.services.accounts import bind_console_account
from bot.services.classes import CLASS_CANCELLED, NOTICE_KINDS, PROMOTED, ClassFacts
from bot.services.classes.notices import class_notice
from bot.services.notices import MissingRenderer, StatusCounts, delivery_report
from tests.classes.conftest import add_classes, add_people, class_id, enroll_as, outbox_texts, spec
from tests.conftest import base_settings

START = datetime(2024, 3, 20, 1, 0, tzinfo=UTC)
END = datetime(2024, 3, 20, 4, 0, tzinfo=UTC)


def _class() -> TrainingClass:
    cls = TrainingClass(course_code="B1-3-1", name="第1期（範例）", place="", online_url="https://example.org/m",
                        hours=Decimal("3.50"), bucket="other", materials_url=None,
                        closes_at=datetime(2024, 3, 10, 9, 0, tzinfo=UTC))
    cls.meetings = [ClassMeeting(starts_at=START, ends_at=END)]
    return cls


def test_class_facts_survive_json() -> None:
    facts = ClassFacts.of(_class())
    again = ClassFacts.from_json(json.loads(json.dumps(facts.to_json())))
    assert again == facts and again.hours == Decimal("3.50") and again.meetings[0].starts_at == START


def test_a_notice_reads_the_same_in_each_language_from_its_values() -> None:
    app = load_app(base_settings("sqlite://"))
    notice = class_notice(PROMOTED, _class())
    zh, en = (app.deps.notices.render(notice, lang)[0].text for lang in ("zh-TW", "en"))
    assert zh.startswith("好消息！") and "https://example.org/m" in zh and "3.5" in zh
    assert en.startswith("Good news!") and "https://example.org/m" in en


def test_start_up_refuses_a_notice_kind_without_a_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    partial = {k: v for k, v in handlers.notices.RENDERERS.items() if k != NOTICE_KINDS[-1]}
    monkeypatch.setattr(handlers.notices, "RENDERERS", partial)
    with pytest.raises(MissingRenderer, match=NOTICE_KINDS[-1]):
        load_app(base_settings("sqlite://"))


async def test_an_import_that_cancels_a_class_reports_its_notices_by_batch(app: Runtime) -> None:
    await add_classes(app, spec("T-RPT", capacity=1))
    cid = await class_id(app, "T-RPT")
    people = await add_people(app, 3)
    async with app.sessions.begin() as s:
        for no in ("P0001", "P0002"):
            await bind_console_account(s, no, lang="en", now=app.clock.now())
    for p in people:
        await enroll_as(app, cid, p)
    await add_classes(app, spec("T-RPT", capacity=1, status="cancelled"))  # batch "test"
    async with app.sessions() as s:
        report = await delivery_report(s, "test")
    assert report.by_kind == {CLASS_CANCELLED: StatusCounts(pending=2)}  # P0003 has no chat account
    texts = [text for _k, text in await outbox_texts(app, "class-cancelled:")]
    assert len(texts) == 2 and all(t.startswith("Sorry, this class has been cancelled") for t in texts)
