"""HR's review of certificate claims in chat: the queue, one claim (facts, rule check, photo), approve or reject.

Only HR officers of the claimant's agency and city admins see a claim; for anyone else a claim number
gets the same answer whether it exists or not. A decision is final: the guarded UPDATE makes one of two
officers deciding at once win, and the other is told it was already decided. The photo goes with the
claim as an :class:`~bot.conversation.ImageRef`: signed links that expire
(``bot.services.certificates.signing``; LINE shows the image) and the local file (the console prints it).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Ctx
from bot.clock import TAIPEI
from bot.conversation import Action, Card, Choice, HandlerResult, ImageRef, IncomingMessage, Intent, Reply
from bot.dates import format_date
from bot.db.models.certificates import CertificateClaim
from bot.db.models.core import Employee
from bot.routing import Feature, Route
from bot.services.accounts import scope_of
from bot.services.certificates import decide_claim, list_claims, recheck, reviewable
from handlers.certificate_claims import claim_line
from handlers.certificate_wizard import QQueue, cdeps, outcome_text
from handlers.common import back_to_menu, main_menu

REASON_STATE = "cert.reason"
MAX_QUEUE = 10


@dataclass(frozen=True)
class QReview(Action, kind="qv"):
    """One claim of the queue, to decide."""

    claim_id: int


@dataclass(frozen=True)
class QApprove(Action, kind="qa"):
    """"Approve": asks to confirm (the decision is final)."""

    claim_id: int


@dataclass(frozen=True)
class QApproveYes(Action, kind="qay"):
    """The confirmed approval."""

    claim_id: int


@dataclass(frozen=True)
class QReject(Action, kind="qj"):
    """"Reject": shows the reasons to pick (or type one)."""

    claim_id: int


@dataclass(frozen=True)
class QRejectReason(Action, kind="qjr"):
    """A reason of certificates.yaml picked: the rejection."""

    claim_id: int
    index: int


def _text(ctx: Ctx, text: str, choices: list[Choice] | None = None, **kw: object) -> HandlerResult:
    return HandlerResult([Reply.plain(text, choices if choices is not None else main_menu(ctx))],
                         intent=Intent.CERTIFICATE, **kw)  # type: ignore[arg-type]


def _who(row: CertificateClaim, claimant: Employee) -> str:
    return f"#{row.id} {claimant.name}（{claimant.employee_no}，{row.agency}）"


async def queue(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """The pending claims this officer may decide, oldest first."""
    scope = await scope_of(ctx.session, ctx.linked)
    if not scope.is_hr:
        return _text(ctx, ctx.t("cert.review.not_hr"))
    rows = await list_claims(ctx.session, scope=scope, status="pending")
    if not rows:
        return _text(ctx, ctx.t("cert.review.empty"))
    cards = [Card(title=_who(row, claimant), body=claim_line(ctx, row),
                  buttons=(ctx.choice("cert.button.review", QReview(row.id)),)) for row, claimant in rows[:MAX_QUEUE]]
    return HandlerResult([Reply.card_list(ctx.t("cert.review.header", count=len(rows)), cards, [back_to_menu(ctx)])],
                         intent=Intent.CERTIFICATE)


def photo(ctx: Ctx, row: CertificateClaim) -> tuple[str, ImageRef | None]:
    """Where HR sees the photo: a line of text and the picture (signed links that expire, the local file).

    LINE shows the picture from the links, the console prints the file's path, and the text keeps the
    link for channels that show neither. Only reviewers of the claimant's agency get here.
    """
    if row.photo_deleted_at is not None:
        return ctx.t("cert.review.photo_deleted"), None
    deps = cdeps(ctx)
    path = str(deps.store.path_of(row.photo_sha256))
    if deps.signer is None:
        return ctx.t("cert.review.photo_no_link"), ImageRef(path=path)
    now = ctx.app.clock.now()
    url = deps.signer.url(row.id, "full", now)
    text = ctx.t("cert.review.photo_link", url=url, minutes=deps.signer.ttl_seconds // 60)
    return text, ImageRef(url=url, preview_url=deps.signer.url(row.id, "preview", now), path=path)


async def show(ctx: Ctx, msg: IncomingMessage, action: QReview) -> HandlerResult:
    """One claim: who, the facts given, the rule check as of its submission, the photo; approve / reject."""
    found = await reviewable(ctx.session, ctx.linked, action.claim_id)
    if found is None:
        return _text(ctx, ctx.t("cert.review.not_found"))
    row, claimant = found
    outcome = await recheck(ctx.session, cdeps(ctx), row, claimant, ctx.app.clock.now())
    scheme = cdeps(ctx).settings.scheme(row.scheme or "")
    photo_text, picture = photo(ctx, row)
    submitted = (row.submitted_at or row.created_at).astimezone(TAIPEI).date()  # the day in Taipei, not UTC's
    lines = [_who(row, claimant), claim_line(ctx, row),
             ctx.t("cert.review.submitted", date=format_date(submitted, ctx.lang)),
             ctx.t("cert.review.check", check=outcome_text(ctx, outcome, scheme)), photo_text]
    if row.status != "pending":
        lines.append(ctx.t("cert.review.already_decided"))
        choices = [ctx.choice("cert.button.queue", QQueue())]
    else:
        choices = [ctx.choice("cert.button.approve", QApprove(row.id)),
                   ctx.choice("cert.button.reject", QReject(row.id)), ctx.choice("cert.button.queue", QQueue())]
    return HandlerResult([Reply("text", "\n".join(lines), tuple(choices), image=picture)], intent=Intent.CERTIFICATE)


async def ask_approve(ctx: Ctx, msg: IncomingMessage, action: QApprove) -> HandlerResult:
    """Confirm an approval (final)."""
    found = await reviewable(ctx.session, ctx.linked, action.claim_id)
    if found is None:
        return _text(ctx, ctx.t("cert.review.not_found"))
    row, claimant = found
    return HandlerResult([Reply.confirm(ctx.t("cert.review.approve_confirm", who=_who(row, claimant),
                                              reward=row.reward or "-"),
                                        ctx.choice("cert.button.approve_yes", QApproveYes(row.id)),
                                        ctx.choice("cert.button.back_to_claim", QReview(row.id)))],
                         intent=Intent.CERTIFICATE)


async def _decide(ctx: Ctx, claim_id: int, *, approve: bool, reason: str | None) -> HandlerResult:
    result = await decide_claim(ctx.session, cdeps(ctx), claim_id, ctx.linked, approve=approve, reason=reason,
                                actor=ctx.actor, now=ctx.app.clock.now())
    more = [ctx.choice("cert.button.queue", QQueue()), back_to_menu(ctx)]
    if result.status == "not_found":
        return _text(ctx, ctx.t("cert.review.not_found"), more, state=None)
    if result.status == "already_decided":
        return _text(ctx, ctx.t("cert.review.already_decided"), more, state=None)
    told = ctx.t("cert.review.told" if result.told else "cert.review.not_told")
    key = "cert.review.approved" if approve else "cert.review.rejected"
    return _text(ctx, ctx.t(key, id=claim_id, told=told), more, state=None)


async def approve(ctx: Ctx, msg: IncomingMessage, action: QApproveYes) -> HandlerResult:
    """Approve: the reward is recorded and the employee told."""
    return await _decide(ctx, action.claim_id, approve=True, reason=None)


async def ask_reason(ctx: Ctx, msg: IncomingMessage, action: QReject) -> HandlerResult:
    """The reasons to pick from; typing one works too (state ``cert.reason``)."""
    found = await reviewable(ctx.session, ctx.linked, action.claim_id)
    if found is None:
        return _text(ctx, ctx.t("cert.review.not_found"))
    reasons = cdeps(ctx).settings.reject_reasons
    choices = [Choice(r.label if ctx.lang == "zh-TW" else r.label_en, QRejectReason(action.claim_id, i))
               for i, r in enumerate(reasons)]
    return _text(ctx, ctx.t("cert.review.reason"), [*choices, ctx.choice("cert.button.back_to_claim",
                                                                         QReview(action.claim_id))],
                 state=REASON_STATE, data={"claim": action.claim_id})


async def reject_picked(ctx: Ctx, msg: IncomingMessage, action: QRejectReason) -> HandlerResult:
    """Reject with a reason from the list (stored in zh-TW, as HR's paperwork reads it)."""
    reasons = cdeps(ctx).settings.reject_reasons
    if action.index >= len(reasons):
        return _text(ctx, ctx.t("cert.stale"))
    return await _decide(ctx, action.claim_id, approve=False, reason=reasons[action.index].label)


async def reject_typed(ctx: Ctx, msg: IncomingMessage, text: str) -> HandlerResult:
    """A reason typed at the reasons question: the rejection with it (1–200 characters)."""
    reason = " ".join(text.split())[:200]
    if not reason:
        return _text(ctx, ctx.t("cert.review.reason"), state=REASON_STATE, data=dict(ctx.data))
    return await _decide(ctx, int(ctx.data.get("claim", 0)), approve=False, reason=reason)


QUEUE = Route(Intent.CERTIFICATE, queue, needs_link="certificate", screen=True)

FEATURE = Feature(
    name="certificate_review",
    actions={QQueue: QUEUE,
             QReview: Route(Intent.CERTIFICATE, show, needs_link="certificate"),
             QApprove: Route(Intent.CERTIFICATE, ask_approve, needs_link="certificate"),
             QApproveYes: Route(Intent.CERTIFICATE, approve, needs_link="certificate"),
             QReject: Route(Intent.CERTIFICATE, ask_reason, needs_link="certificate"),
             QRejectReason: Route(Intent.CERTIFICATE, reject_picked, needs_link="certificate")},
    intents={"review_claims": QUEUE},
    states={REASON_STATE: Route(Intent.CERTIFICATE, reject_typed, needs_link="certificate")},
)
