"""The employee's own claims: "我的申請" (each with its status) and withdrawing one while it is pending."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.dates import format_date
from bot.db.models.certificates import CertificateClaim
from bot.routing import Feature, Route
from bot.services.certificates import claims_of, withdraw_claim
from handlers.certificate_wizard import QMine, cdeps
from handlers.common import back_to_menu, main_menu

MAX_LISTED = 10


@dataclass(frozen=True)
class QWithdraw(Action, kind="qw"):
    """"Withdraw" under a pending claim: asks to confirm."""

    claim_id: int


@dataclass(frozen=True)
class QWithdrawYes(Action, kind="qwy"):
    """The confirmation of a withdrawal."""

    claim_id: int


def claim_line(ctx: Ctx, row: CertificateClaim) -> str:
    """One claim as the employee reads it: number, test and level, date, expected reward, status."""
    test = next((t for t in cdeps(ctx).settings.tests if t.id == row.test_id), None)
    title = (test.title if ctx.lang == "zh-TW" else test.title_en) if test else (row.test_id or "")
    level = row.level_label or row.scores or ""
    if test is not None and row.level_label:
        level = next((lv.label if ctx.lang == "zh-TW" else lv.label_en for lv in test.levels
                      if lv.label == row.level_label), row.level_label)
    dated = format_date(row.dated, ctx.lang) if row.dated else "-"
    line = ctx.t("cert.mine.line", id=row.id, test=title, level=level, date=dated, reward=row.reward or "-",
                 status=ctx.t(f"cert.status.{row.status}"))
    if row.status == "rejected" and row.reject_reason:
        line += "\n" + ctx.t("cert.mine.reason", reason=row.reject_reason)
    return line


async def my_claims(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """"我的申請": the claims and their status, newest first, with "withdraw" under the pending ones."""
    rows = await claims_of(ctx.session, ctx.linked.id)
    if not rows:
        return HandlerResult([Reply.plain(ctx.t("cert.mine.none"), main_menu(ctx))], intent=Intent.CERTIFICATE)
    shown = rows[:MAX_LISTED]
    lines = [ctx.t("cert.mine.header", count=len(rows)), *(claim_line(ctx, r) for r in shown)]
    choices: list[Choice] = [Choice(ctx.t("cert.button.withdraw", id=r.id), QWithdraw(r.id))
                             for r in shown if r.status == "pending"][:5]
    return HandlerResult([Reply.plain("\n".join(lines), [*choices, back_to_menu(ctx)])], intent=Intent.CERTIFICATE)


async def ask_withdraw(ctx: Ctx, msg: IncomingMessage, action: QWithdraw) -> HandlerResult:
    """Confirm before withdrawing a pending claim."""
    rows = {r.id: r for r in await claims_of(ctx.session, ctx.linked.id)}
    row = rows.get(action.claim_id)
    if row is None or row.status != "pending":
        return HandlerResult([Reply.plain(ctx.t("cert.withdraw.not_open"), main_menu(ctx))], intent=Intent.CERTIFICATE)
    return HandlerResult([Reply.confirm(ctx.t("cert.withdraw.confirm", line=claim_line(ctx, row)),
                                        ctx.choice("cert.button.withdraw_yes", QWithdrawYes(row.id)),
                                        ctx.choice("cert.button.keep", QMine()))], intent=Intent.CERTIFICATE)


async def confirm_withdraw(ctx: Ctx, msg: IncomingMessage, action: QWithdrawYes) -> HandlerResult:
    """Withdraw: one guarded UPDATE, so a claim HR decided meanwhile stays decided."""
    done = await withdraw_claim(ctx.session, action.claim_id, ctx.linked, ctx.app.clock.now())
    key = "cert.withdraw.done" if done else "cert.withdraw.not_open"
    return HandlerResult([Reply.plain(ctx.t(key, id=action.claim_id), main_menu(ctx))], intent=Intent.CERTIFICATE)


MINE = Route(Intent.CERTIFICATE, my_claims, needs_link="certificate", screen=True)

FEATURE = Feature(
    name="certificate_claims",
    actions={QMine: MINE,
             QWithdraw: Route(Intent.CERTIFICATE, ask_withdraw, needs_link="certificate"),
             QWithdrawYes: Route(Intent.CERTIFICATE, confirm_withdraw, needs_link="certificate")},
    intents={"my_claims": MINE},
)
