"""The certificate wizard's buttons and questions: kind → test → level or scores → date, and how answers read.

Shared by :mod:`handlers.certificate` (the photo, the flow, the typed answers), :mod:`handlers.certificate_claims`
and :mod:`handlers.certificate_review`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, Intent, Reply
from bot.dates import format_date
from bot.services.certificates import Answers, CertDeps, Outcome, Scheme, TestDef
from handlers.common import main_menu

STATE = "cert.wizard"


@dataclass(frozen=True)
class QKind(Action, kind="qk"):
    """The wizard's first answer: the kind of certificate (a scheme of certificates.yaml)."""

    claim_id: int
    scheme: str


@dataclass(frozen=True)
class QTest(Action, kind="qt"):
    """Which test (an id of certificates.yaml)."""

    claim_id: int
    test_id: str


@dataclass(frozen=True)
class QLevel(Action, kind="ql"):
    """Which level of a test passed at named levels (its index)."""

    claim_id: int
    index: int


@dataclass(frozen=True)
class QSubmit(Action, kind="qs"):
    """"Submit" on the confirmation card."""

    claim_id: int


@dataclass(frozen=True)
class QCancel(Action, kind="qx"):
    """Leave the wizard: the draft is withdrawn (its photo goes with retention)."""

    claim_id: int


@dataclass(frozen=True)
class QRedo(Action, kind="qd"):
    """Answer the wizard again for the same photo (a mistyped date, the wrong test)."""

    claim_id: int


@dataclass(frozen=True)
class QMine(Action, kind="qm"):
    """"My claims" (routed by handlers.certificate_claims)."""


@dataclass(frozen=True)
class QQueue(Action, kind="qq"):
    """HR's review queue (routed by handlers.certificate_review)."""


@dataclass(frozen=True)
class QPrefill(Action, kind="qp"):
    """"Yes, use what was read" on the OCR prefill (the rules are still checked and confirmed after)."""

    claim_id: int


def cdeps(ctx: Ctx) -> CertDeps:
    """What the certificate services need besides the session."""
    return ctx.app.certificates


def test_title(ctx: Ctx, test: TestDef) -> str:
    """A test's name in the user's language."""
    return test.title if ctx.lang == "zh-TW" else test.title_en


def wizard_answer(ctx: Ctx, text: str, choices: list[Choice] | None = None, *, state: str | None = None,
                  data: dict[str, Any] | None = None) -> HandlerResult:
    """One text of the feature with its buttons (the main menu by default) and the state to go to."""
    return HandlerResult([Reply.plain(text, choices if choices is not None else main_menu(ctx))],
                         state=state, data=data or {}, intent=Intent.CERTIFICATE)


# ---------------------------------------------------------------- the wizard's questions


def ask_kind(ctx: Ctx, claim_id: int, lead: str = "") -> HandlerResult:
    """Which kind of certificate (English, Hakka)."""
    schemes = cdeps(ctx).settings.schemes
    choices = [Choice(s.title if ctx.lang == "zh-TW" else s.title_en, QKind(claim_id, s.id)) for s in schemes]
    text = "\n".join(x for x in (lead, ctx.t("cert.ask.kind")) if x)
    return wizard_answer(ctx, text, [*choices, ctx.choice("cert.button.cancel", QCancel(claim_id))], state=STATE,
                   data={"claim": claim_id, "step": "kind"})


def ask_test(ctx: Ctx, claim_id: int, scheme: str) -> HandlerResult:
    """Which test of the scheme (skipped when the scheme has one test)."""
    tests = cdeps(ctx).settings.tests_of(scheme)
    if len(tests) == 1:
        return ask_level(ctx, {"claim": claim_id, "scheme": scheme}, tests[0])
    choices = [Choice(test_title(ctx, t), QTest(claim_id, t.id)) for t in tests]
    return wizard_answer(ctx, ctx.t("cert.ask.test"), [*choices, ctx.choice("cert.button.cancel", QCancel(claim_id))],
                   state=STATE, data={"claim": claim_id, "step": "test", "scheme": scheme})


def ask_level(ctx: Ctx, data: dict[str, Any], test: TestDef) -> HandlerResult:
    """The level passed (buttons) or the first score (typed)."""
    claim_id = int(data["claim"])
    data = {**data, "test": test.id, "scores": []}
    cancel = ctx.choice("cert.button.cancel", QCancel(claim_id))
    if test.levels:
        choices = [Choice(lv.label if ctx.lang == "zh-TW" else lv.label_en, QLevel(claim_id, i))
                   for i, lv in enumerate(test.levels)]
        return wizard_answer(ctx, ctx.t("cert.ask.level", test=test_title(ctx, test)), [*choices, cancel], state=STATE,
                       data={**data, "step": "level"})
    return ask_score(ctx, data, test, 0)


def ask_score(ctx: Ctx, data: dict[str, Any], test: TestDef, index: int) -> HandlerResult:
    """The ``index``-th score part of a score test (typed)."""
    assert test.score is not None
    part = test.score.parts[index]
    label = part.label if ctx.lang == "zh-TW" else part.label_en
    text = ctx.t("cert.ask.score", test=test_title(ctx, test), part=label, min=_num(part.min), max=_num(part.max))
    return wizard_answer(ctx, text, [ctx.choice("cert.button.cancel", QCancel(int(data["claim"])))], state=STATE,
                   data={**data, "step": "score", "part": index})


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def ask_date(ctx: Ctx, data: dict[str, Any]) -> HandlerResult:
    """The date the window counts from: the issue date, or the mailing date for Hakka."""
    basis = cdeps(ctx).settings.scheme(str(data["scheme"])).date_basis
    return wizard_answer(ctx, ctx.t(f"cert.ask.date_{basis}"),
                   [ctx.choice("cert.button.cancel", QCancel(int(data["claim"])))], state=STATE,
                   data={**data, "step": "date"})


def answers_of(ctx: Ctx, data: dict[str, Any]) -> Answers:
    """The wizard's answers from the conversation state."""
    test = cdeps(ctx).settings.test(str(data["test"]))
    level = data.get("level")
    return Answers(test=test, level_index=int(level) if level is not None else None,
                   scores=tuple(Decimal(s) for s in data.get("scores", [])), dated=date.fromisoformat(data["date"]))


def result_text(ctx: Ctx, answers: Answers) -> str:
    """The result as the employee gave it: "全民英檢 GEPT 中級" or "多益聽讀 TOEIC L&R 785"."""
    if answers.level_index is not None:
        lv = answers.test.levels[answers.level_index]
        return f"{test_title(ctx, answers.test)} {lv.label if ctx.lang == 'zh-TW' else lv.label_en}"
    return f"{test_title(ctx, answers.test)} {answers.scores_text}"


def outcome_text(ctx: Ctx, outcome: Outcome, scheme: Scheme) -> str:
    """One sentence: what the claim can expect ("符合「中級」嘉獎2次"), or why it earns nothing."""
    values: dict[str, object] = {}
    for k, v in outcome.values.items():
        values[k] = format_date(v, ctx.lang) if isinstance(v, date) else v
    if "grade" in values:
        values["grade"] = scheme.grade_text(str(values["grade"]), ctx.lang)
    if outcome.tier is not None:
        values["reward"] = outcome.tier.reward if ctx.lang == "zh-TW" else outcome.tier.reward_en
        values["level"] = scheme.grade_text(outcome.tier.level, ctx.lang)
    return ctx.t(f"cert.outcome.{outcome.key}", **values)


