"""The satisfaction survey in chat: a point on the scale per button, then the free-text question (or 略過).

The invitation (``surveys.invite``, rendered in :mod:`handlers.reminder_notices`) carries the first
question's buttons with the one-time token. The scores given so far wait in the conversation state (only
scores and the token); the last answer writes everything at once through
:func:`bot.services.reminders.submit`, which stores it without the person and refuses a second answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.reminders import invitation, submit
from bot.services.reminders.settings import SurveySettings
from handlers.common import back_to_menu

STATE_TEXT = "survey.text"
MAX_TEXT = 500


@dataclass(frozen=True)
class SurveyScore(Action, kind="ra"):
    """A point on the scale for question ``question`` (from 0) of the survey whose token this is."""

    token: str
    question: int
    score: int


@dataclass(frozen=True)
class SurveySkip(Action, kind="rk"):
    """"略過" on the free-text question."""

    token: str


def _settings(ctx: Ctx) -> SurveySettings:
    assert ctx.app.reminders is not None
    return ctx.app.reminders.ctx.settings.survey


def question_reply(t: Callable[..., str], question: Mapping[str, Any], *, lang: str, token: str, number: int,
                   of: int, scale: Sequence[int], lead: Sequence[str] = ()) -> Reply:
    """Question ``number`` (``id, text, text_en, type``) with its buttons: a point each, or 略過 for free text."""
    text = question["text"] if lang == "zh-TW" else question["text_en"]
    lines = [*lead, t("survey.question", number=number + 1, of=of, text=text)]
    if question["type"] == "scale":
        choices = [Choice(str(p), SurveyScore(token, number, p)) for p in range(scale[0], scale[1] + 1)]
    else:
        choices = [Choice(t("survey.skip"), SurveySkip(token))]
    return Reply.plain("\n".join(lines), choices)


def _ask(ctx: Ctx, settings: SurveySettings, token: str, number: int) -> Reply:
    return question_reply(ctx.t, settings.questions[number].model_dump(), lang=ctx.lang, token=token, number=number,
                          of=len(settings.questions), scale=settings.scale)


async def _check(ctx: Ctx, token: str) -> HandlerResult | None:
    """A refusal when the token is not this person's, or is spent, or the survey closed; else None."""
    found = await invitation(ctx.session, _settings(ctx), token, now=ctx.app.clock.now())
    if found is None or found.employee_id != ctx.linked.id:
        return HandlerResult([Reply.plain(ctx.t("error.bad_button"), [back_to_menu(ctx)])], state=None,
                             intent=Intent.SURVEY)
    if found.answered:
        return HandlerResult([Reply.plain(ctx.t("survey.already"), [back_to_menu(ctx)])], state=None,
                             intent=Intent.SURVEY)
    if found.closed:
        return HandlerResult([Reply.plain(ctx.t("survey.closed"), [back_to_menu(ctx)])], state=None,
                             intent=Intent.SURVEY)
    return None


async def _next(ctx: Ctx, token: str, answers: dict[str, int | str], number: int) -> HandlerResult:
    """Ask question ``number``, or write the answers when there is none left."""
    settings = _settings(ctx)
    if settings.question(number) is None:
        if not await submit(ctx.session, token, ctx.linked.id, answers):
            return HandlerResult([Reply.plain(ctx.t("survey.already"), [back_to_menu(ctx)])], state=None,
                                 intent=Intent.SURVEY)
        return HandlerResult([Reply.plain(ctx.t("survey.thanks"), [back_to_menu(ctx)])], state=None,
                             intent=Intent.SURVEY)
    scores = {k: v for k, v in answers.items() if isinstance(v, int)}
    reply = _ask(ctx, settings, token, number)
    state = STATE_TEXT if settings.questions[number].type == "text" else None
    return HandlerResult([reply], state=state, data={"survey": {"token": token, "answers": scores, "at": number}},
                         intent=Intent.SURVEY)


def _answers(ctx: Ctx, token: str) -> dict[str, int | str]:
    held = ctx.data.get("survey") if isinstance(ctx.data.get("survey"), dict) else None
    if held and held.get("token") == token and isinstance(held.get("answers"), dict):
        return {str(k): int(v) for k, v in held["answers"].items()}
    return {}


async def on_score(ctx: Ctx, msg: IncomingMessage, action: SurveyScore) -> HandlerResult:
    """A point pressed: keep it, ask the next question (the buttons of an earlier one may be pressed again)."""
    refused = await _check(ctx, action.token)
    if refused is not None:
        return refused
    settings = _settings(ctx)
    q = settings.question(action.question)
    low, high = settings.scale
    if q is None or q.type != "scale" or not low <= action.score <= high:
        return HandlerResult([Reply.plain(ctx.t("error.bad_button"), [back_to_menu(ctx)])], intent=Intent.SURVEY)
    answers = _answers(ctx, action.token)
    answers[q.id] = action.score
    return await _next(ctx, action.token, answers, action.question + 1)


async def on_skip(ctx: Ctx, msg: IncomingMessage, action: SurveySkip) -> HandlerResult:
    """略過 the free-text question: submit what was given."""
    refused = await _check(ctx, action.token)
    if refused is not None:
        return refused
    return await _next(ctx, action.token, _answers(ctx, action.token), len(_settings(ctx).questions))


async def on_text(ctx: Ctx, msg: IncomingMessage, text: str) -> HandlerResult:
    """The free-text answer (cut at 500 characters); a command typed instead leaves the survey."""
    held = ctx.data.get("survey") if isinstance(ctx.data.get("survey"), dict) else None
    token = str(held.get("token", "")) if held else ""
    if not token or ctx.app.intents.command(text) is not None:
        return HandlerResult([], state=None, intent=Intent.SURVEY, or_command=True)
    refused = await _check(ctx, token)
    if refused is not None:
        return refused
    settings = _settings(ctx)
    answers = _answers(ctx, token)
    question = next(q for q in settings.questions if q.type == "text")
    answers[question.id] = text.strip()[:MAX_TEXT]
    return await _next(ctx, token, answers, len(settings.questions))


FEATURE = Feature(
    name="survey",
    actions={SurveyScore: Route(Intent.SURVEY, on_score, needs_link="survey"),
             SurveySkip: Route(Intent.SURVEY, on_skip, needs_link="survey")},
    states={STATE_TEXT: Route(Intent.SURVEY, on_text, needs_link="survey")},
)
