"""Certificate claims in chat: the photo, then the wizard (kind → test → level or scores → date → check → confirm).

A photo (any channel: ``msg.image`` holds its bytes, or ``msg.image_problem`` says why not) is validated
and stored (:func:`bot.services.certificates.validate_photo`, ``start_claim``), which opens a draft claim;
the wizard's answers live in the conversation state ``cert.wizard`` (``claim``, ``step`` and the answers),
each step offering buttons and accepting the same answer typed. Before the confirmation the rules are
checked and the employee is told what to expect ("符合「中級」嘉獎2次", or why not). Diagram:
docs/certificate.mmd. "My claims" and withdrawing are in :mod:`handlers.certificate_claims`, HR's review in
:mod:`handlers.certificate_review`.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from typing import Any

from bot.app import Ctx
from bot.conversation import MAX_IMAGE_BYTES, HandlerResult, IncomingMessage, Intent, Reply
from bot.dates import format_date
from bot.routing import Feature, Route
from bot.services.accounts import scope_of
from bot.services.certificates import (
    PhotoProblem,
    Prefill,
    TestDef,
    draft_of,
    evaluate,
    parse_date,
    parse_prefill,
    parse_score,
    score_problem,
    start_claim,
    submit_claim,
    validate_photo,
    window_end,
    withdraw_claim,
)
from handlers.certificate_wizard import (
    STATE,
    QCancel,
    QKind,
    QLevel,
    QMine,
    QPrefill,
    QQueue,
    QRedo,
    QSubmit,
    QTest,
    answers_of,
    ask_date,
    ask_kind,
    ask_level,
    ask_score,
    ask_test,
    cdeps,
    outcome_text,
    result_text,
    test_title,
)
from handlers.certificate_wizard import wizard_answer as _answer
from handlers.common import Certificate, back_to_menu

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- the certificate menu


async def certificate_menu(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """The "證書獎勵" button or intent: how to claim (send a photo), my claims, and HR's queue for HR."""
    choices = [ctx.choice("cert.button.mine", QMine())]
    if (await scope_of(ctx.session, ctx.linked)).is_hr:
        choices.append(ctx.choice("cert.button.queue", QQueue()))
    choices.append(back_to_menu(ctx))
    return _answer(ctx, ctx.t("cert.intro", limit_mb=MAX_IMAGE_BYTES // (1024 * 1024)), choices)


# ---------------------------------------------------------------- the photo


async def received_image(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """A photo or file: say what went wrong in one sentence, or store it and start the wizard."""
    if msg.image_problem == "too_large":
        return _answer(ctx, ctx.t("cert.photo.too_large", limit_mb=MAX_IMAGE_BYTES // (1024 * 1024)))
    if msg.image_problem == "not_image":
        return _answer(ctx, ctx.t("cert.photo.not_image"))
    if msg.image_problem is not None or msg.image is None:
        return _answer(ctx, ctx.t("cert.photo.unavailable"))
    employee = ctx.employee
    if employee is None:
        return HandlerResult([Reply.plain(ctx.t("cert.photo.bind_first"), [back_to_menu(ctx)])],
                             intent=Intent.CERTIFICATE)
    deps = cdeps(ctx)
    checked = await asyncio.to_thread(validate_photo, msg.image, deps.settings.photos)  # CPU: off the loop
    if isinstance(checked, PhotoProblem):
        return _answer(ctx, ctx.t(f"cert.photo.{checked.key}", **checked.values))
    row = await start_claim(ctx.session, deps, employee, checked, plan_year=ctx.app.settings.plan_year,
                            now=ctx.app.clock.now())
    prefill = await _read(ctx, checked.data)
    if prefill is not None:
        return offer_prefill(ctx, row.id, prefill)
    return ask_kind(ctx, row.id, ctx.t("cert.photo.stored"))


async def _read(ctx: Ctx, data: bytes) -> Prefill | None:
    """What OCR reads from the stored photo, when a reader is installed; None when absent, unsure or failing."""
    reader = cdeps(ctx).ocr
    if reader is None:
        return None
    try:
        text = await asyncio.to_thread(reader, data)
    except Exception:  # an OCR failure only means asking as usual
        log.warning("certificate OCR failed", exc_info=False)
        return None
    return parse_prefill(text, cdeps(ctx).settings)


def offer_prefill(ctx: Ctx, claim_id: int, prefill: Prefill) -> HandlerResult:
    """Show what was read and ask whether to use it; "no" answers the wizard as usual."""
    test = cdeps(ctx).settings.test(prefill.test_id)
    parts = [test_title(ctx, test)]
    if prefill.level_index is not None:
        lv = test.levels[prefill.level_index]
        parts.append(lv.label if ctx.lang == "zh-TW" else lv.label_en)
    if prefill.dated is not None:
        parts.append(format_date(prefill.dated, ctx.lang))
    data: dict[str, Any] = {"claim": claim_id, "step": "prefill", "scheme": test.scheme, "test": test.id,
                            "scores": [], "pre_level": prefill.level_index,
                            "pre_date": prefill.dated.isoformat() if prefill.dated else None}
    text = "\n".join((ctx.t("cert.photo.stored"), ctx.t("cert.prefill.ask", read="，".join(parts)
                                                         if ctx.lang == "zh-TW" else ", ".join(parts))))
    return _answer(ctx, text, [ctx.choice("cert.button.prefill_yes", QPrefill(claim_id)),
                               ctx.choice("cert.button.prefill_no", QRedo(claim_id)),
                               ctx.choice("cert.button.cancel", QCancel(claim_id))], state=STATE, data=data)


async def on_prefill(ctx: Ctx, msg: IncomingMessage, action: QPrefill) -> HandlerResult:
    """Use what was read: the first question it did not answer next (a score, the level, the date, the check)."""
    data = _in_flow(ctx, action.claim_id)
    if data is None or data.get("step") != "prefill":
        return _answer(ctx, ctx.t("cert.stale"))
    test = cdeps(ctx).settings.test(str(data["test"]))
    if test.score is not None:
        return ask_score(ctx, data, test, 0)
    if data.get("pre_level") is None:
        return ask_level(ctx, data, test)
    data["level"] = data["pre_level"]
    if data.get("pre_date") is None:
        return ask_date(ctx, data)
    return await check_and_confirm(ctx, {**data, "date": data["pre_date"]})


async def check_and_confirm(ctx: Ctx, data: dict[str, Any]) -> HandlerResult:
    """All answers given: check the rules now and show the outcome; confirm only an eligible claim."""
    claim_id = int(data["claim"])
    row = await draft_of(ctx.session, claim_id, ctx.linked.id)
    if row is None:
        return _answer(ctx, ctx.t("cert.stale"))
    answers = answers_of(ctx, data)
    scheme = cdeps(ctx).settings.scheme(answers.test.scheme)
    row.scheme, row.test_id, row.dated = scheme.id, answers.test.id, answers.dated  # remembered for reminders
    row.window_end = window_end(cdeps(ctx).rules, scheme, answers.dated)
    _grade, outcome = await evaluate(ctx.session, cdeps(ctx), ctx.linked, answers, ctx.app.clock.now(), exclude=row.id)
    basis = ctx.t(f"cert.basis.{scheme.date_basis}")
    summary = ctx.t("cert.summary", result=result_text(ctx, answers), basis=basis,
                    date=format_date(answers.dated, ctx.lang))
    if not outcome.eligible:
        return _answer(ctx, f"{summary}\n{outcome_text(ctx, outcome, scheme)}",
                       [ctx.choice("cert.button.redo", QRedo(claim_id)), ctx.choice("cert.button.cancel",
                                                                                    QCancel(claim_id))],
                       state=STATE, data={**data, "step": "refused"})
    text = f"{summary}\n{outcome_text(ctx, outcome, scheme)}\n{ctx.t('cert.confirm')}"
    return HandlerResult([Reply.confirm(text, ctx.choice("cert.button.submit", QSubmit(claim_id)),
                                        ctx.choice("cert.button.cancel", QCancel(claim_id)))],
                         state=STATE, data={**data, "step": "confirm"}, intent=Intent.CERTIFICATE)


# ---------------------------------------------------------------- buttons


def _in_flow(ctx: Ctx, claim_id: int) -> dict[str, Any] | None:
    """The wizard's data when this button belongs to the open wizard (else the button is stale)."""
    if ctx.state != STATE or int(ctx.data.get("claim", -1)) != claim_id:
        return None
    return dict(ctx.data)


async def on_kind(ctx: Ctx, msg: IncomingMessage, action: QKind) -> HandlerResult:
    """The kind was chosen: ask which test."""
    data = _in_flow(ctx, action.claim_id)
    if data is None or action.scheme not in {s.id for s in cdeps(ctx).settings.schemes}:
        return _answer(ctx, ctx.t("cert.stale"))
    return ask_test(ctx, action.claim_id, action.scheme)


async def on_test(ctx: Ctx, msg: IncomingMessage, action: QTest) -> HandlerResult:
    """The test was chosen: ask the level or the score."""
    data = _in_flow(ctx, action.claim_id)
    tests = {t.id: t for t in cdeps(ctx).settings.tests}
    if data is None or action.test_id not in tests:
        return _answer(ctx, ctx.t("cert.stale"))
    test = tests[action.test_id]
    return ask_level(ctx, {**data, "scheme": test.scheme}, test)


async def on_level(ctx: Ctx, msg: IncomingMessage, action: QLevel) -> HandlerResult:
    """The level was chosen: ask the date."""
    data = _in_flow(ctx, action.claim_id)
    if data is None or "test" not in data:
        return _answer(ctx, ctx.t("cert.stale"))
    test = cdeps(ctx).settings.test(str(data["test"]))
    if action.index >= len(test.levels):
        return _answer(ctx, ctx.t("cert.stale"))
    return ask_date(ctx, {**data, "level": action.index})


async def on_submit(ctx: Ctx, msg: IncomingMessage, action: QSubmit) -> HandlerResult:
    """"Submit": check again (something may have changed) and make the claim pending for HR."""
    data = _in_flow(ctx, action.claim_id)
    row = await draft_of(ctx.session, action.claim_id, ctx.linked.id)
    if data is None or row is None or data.get("step") != "confirm":
        return _answer(ctx, ctx.t("cert.stale"))
    answers = answers_of(ctx, data)
    scheme = cdeps(ctx).settings.scheme(answers.test.scheme)
    outcome = await submit_claim(ctx.session, cdeps(ctx), row, ctx.linked, answers, ctx.app.clock.now())
    if not outcome.eligible or outcome.tier is None:
        return _answer(ctx, outcome_text(ctx, outcome, scheme))
    reward = outcome.tier.reward if ctx.lang == "zh-TW" else outcome.tier.reward_en
    return _answer(ctx, ctx.t("cert.submitted", id=row.id, level=scheme.grade_text(outcome.tier.level, ctx.lang),
                              reward=reward),
                   [ctx.choice("cert.button.mine", QMine()), back_to_menu(ctx)])


async def on_cancel(ctx: Ctx, msg: IncomingMessage, action: QCancel) -> HandlerResult:
    """Leave the wizard; its draft is withdrawn."""
    if await draft_of(ctx.session, action.claim_id, ctx.linked.id) is not None:
        await withdraw_claim(ctx.session, action.claim_id, ctx.linked, ctx.app.clock.now())
    return _answer(ctx, ctx.t("cert.cancelled"))


async def on_redo(ctx: Ctx, msg: IncomingMessage, action: QRedo) -> HandlerResult:
    """Start the answers again for the same photo."""
    if _in_flow(ctx, action.claim_id) is None or await draft_of(ctx.session, action.claim_id, ctx.linked.id) is None:
        return _answer(ctx, ctx.t("cert.stale"))
    return ask_kind(ctx, action.claim_id)


# ---------------------------------------------------------------- typed answers


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace(" ", "")


def _pick(text: str, options: list[tuple[str, ...]]) -> int | None:
    """The option a typed answer names (its number, or one of its names contained in the text)."""
    folded = _fold(text)
    if folded.isdigit() and 1 <= int(folded) <= len(options):
        return int(folded) - 1
    hits = [i for i, names in enumerate(options) if any(_fold(n) and (_fold(n) == folded) for n in names)]
    if not hits:
        hits = [i for i, names in enumerate(options) if any(_fold(n) and _fold(n) in folded for n in names)]
    return hits[0] if len(hits) == 1 else None


async def wizard_text(ctx: Ctx, msg: IncomingMessage, text: str) -> HandlerResult:
    """Text typed in the wizard: the answer to the open question, or the question again."""
    data = dict(ctx.data)
    step, settings = data.get("step"), cdeps(ctx).settings
    claim_id = int(data.get("claim", 0))
    if step == "kind":
        tests = list(settings.tests)  # a test named at once (全民英檢, TOEIC) answers this question and the next
        t = _pick(text, [(t.id, t.title, t.title_en, *t.title.split()) for t in tests])
        if t is not None:
            return ask_level(ctx, {**data, "scheme": tests[t].scheme}, tests[t])
        i = _pick(text, [(s.id, s.title, s.title_en, s.title[:2], *s.words) for s in settings.schemes])
        if i is not None:
            return ask_test(ctx, claim_id, settings.schemes[i].id)
        return _again(ctx, ask_kind(ctx, claim_id))
    if step == "test":
        tests = settings.tests_of(str(data["scheme"]))
        i = _pick(text, [(t.id, t.title, t.title_en, *t.title.split()) for t in tests])
        if i is not None:
            return ask_level(ctx, data, tests[i])
        return _again(ctx, ask_test(ctx, claim_id, str(data["scheme"])))
    if step in ("level", "score"):
        test = settings.test(str(data["test"]))
        if step == "level":
            i = _pick(text, [(lv.label, lv.label_en) for lv in test.levels])
            if i is not None:
                return ask_date(ctx, {**data, "level": i})
            return _again(ctx, ask_level(ctx, data, test))
        return _score_text(ctx, data, test, text)
    if step == "date":
        dated = parse_date(text)
        if dated is None:
            return _again(ctx, ask_date(ctx, data), ctx.t("cert.bad_date"))
        return await check_and_confirm(ctx, {**data, "date": dated.isoformat()})
    if step == "confirm":  # not an answer to the card (送出 / 確定 press it before this): the same card again
        return _again(ctx, await check_and_confirm(ctx, data), ctx.t("cert.use_buttons"))
    return _again(ctx, _answer(ctx, ctx.t("cert.use_buttons"), [ctx.choice("cert.button.cancel", QCancel(claim_id))],
                               state=STATE, data=data))



def _score_text(ctx: Ctx, data: dict[str, Any], test: TestDef, text: str) -> HandlerResult:
    assert test.score is not None
    index = int(data.get("part", 0))
    score = parse_score(text)
    if score is None:
        return _again(ctx, ask_score(ctx, data, test, index), ctx.t("cert.bad_score"))
    problem = score_problem(test, index, score)
    if problem is not None:
        return _again(ctx, ask_score(ctx, data, test, index), ctx.t(f"cert.{problem}"))
    data = {**data, "scores": [*data.get("scores", []), format(score.normalize(), "f")]}
    if index + 1 < len(test.score.parts):
        return ask_score(ctx, data, test, index + 1)
    return ask_date(ctx, data)


def _again(ctx: Ctx, result: HandlerResult, lead: str = "") -> HandlerResult:
    """The same question again (after a sentence saying what was wrong); a command typed instead leaves."""
    if lead:
        first = result.replies[0]
        result.replies[0] = Reply(first.type, f"{lead}\n{first.text}", first.choices, first.cards)
    result.or_command = True
    return result


FLOW = Route(Intent.CERTIFICATE, wizard_text, needs_link="certificate")
MENU = Route(Intent.CERTIFICATE, certificate_menu, needs_link="certificate", screen=True)

FEATURE = Feature(
    name="certificate",
    actions={
        Certificate: MENU,
        QKind: Route(Intent.CERTIFICATE, on_kind, needs_link="certificate"),
        QTest: Route(Intent.CERTIFICATE, on_test, needs_link="certificate"),
        QLevel: Route(Intent.CERTIFICATE, on_level, needs_link="certificate"),
        QSubmit: Route(Intent.CERTIFICATE, on_submit, needs_link="certificate"),
        QCancel: Route(Intent.CERTIFICATE, on_cancel, needs_link="certificate"),
        QRedo: Route(Intent.CERTIFICATE, on_redo, needs_link="certificate"),
        QPrefill: Route(Intent.CERTIFICATE, on_prefill, needs_link="certificate"),
    },
    intents={"certificate": MENU},
    states={STATE: FLOW},
)
