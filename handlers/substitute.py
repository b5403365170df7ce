"""Substitutes (遞補) by agency HR in chat: "遞補 班期代碼 原報名者員編 遞補者員編", then confirm."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, HandlerResult, IncomingMessage, Intent, Reply
from bot.db.models.core import Employee
from bot.routing import Feature, Route
from bot.services.accounts import Scope, employee_by_id, employees_by_number, roles, with_chat_account
from bot.services.classes import (
    SUB_ACTION,
    enrollment_of,
    enrollment_with_person,
    find_class,
    get_class,
    hr_scope,
    substitute_as,
    substitute_refusal,
)
from bot.services.classes import format as fmt
from handlers.common import back_to_menu, main_menu
from handlers.enroll import Decline, deps, refusal_text, stale


@dataclass(frozen=True)
class ConfirmSubstitute(Action, kind="sb"):
    """HR's "confirm" on a substitution: the enrollment that changes hands and the substitute's employee id."""

    enrollment_id: int
    substitute_id: int


def _answer(ctx: Ctx, text: str, *, menu: bool = False) -> HandlerResult:
    buttons = main_menu(ctx) if menu else [back_to_menu(ctx)]
    return HandlerResult([Reply.plain(text, buttons)], intent=Intent.ENROLL)


def unreachable(ctx: Ctx, scope: Scope) -> str:
    """The one sentence for a class or colleague this HR officer cannot act on, whether it exists or not."""
    if scope.city:  # city HR may see everyone: nothing to hide, only nothing found
        return ctx.t("classes.sub.not_found")
    return ctx.t("classes.sub.unreachable", agencies=ctx.t("list.separator").join(sorted(scope.agencies)))


async def who_is_told(ctx: Ctx, leaving: Employee, replacement: Employee, *, told: set[int] | None = None) -> str:
    """Who the notices reach: both, one (and who must be told by hand), or neither (no chat account)."""
    if told is None:
        told = await with_chat_account(ctx.session, [leaving.id, replacement.id])
    reached = [p for p in (leaving, replacement) if p.id in told]
    missed = [p for p in (leaving, replacement) if p.id not in told]
    if not missed:
        return ctx.t("classes.sub.told_both")
    if not reached:
        return ctx.t("classes.sub.told_none")
    return ctx.t("classes.sub.told_one", told=reached[0].name, untold=missed[0].name)


async def _refused(ctx: Ctx, target: str, key: str) -> None:
    """Audit a refusal at the preview (the confirmed change is audited by the service)."""
    await roles.record(ctx.session, actor=ctx.actor, actor_employee_id=ctx.linked.id, action=SUB_ACTION,
                       target=target[:200], allowed=False, now=ctx.app.clock.now(), detail=key)


async def substitute_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"遞補 班期代碼 原報名者員編 遞補者員編" (HR only): check, then ask to confirm.

    The officer's scope comes first: only employees of their agencies are looked up, and a class or an
    employee number that is unknown or outside the scope gets one and the same sentence, so a refusal
    never tells whether a number exists, whose it is or whether that person holds a seat. Every refusal
    is audited as refused.
    """
    actor = ctx.linked
    scope = await hr_scope(ctx.session, actor)
    if scope is None:
        await _refused(ctx, arg, "classes.sub.not_hr")
        return _answer(ctx, ctx.t("classes.sub.not_hr"), menu=True)
    parts = unicodedata.normalize("NFKC", arg).split()  # full-width "ＤＥＭＯ－ＴＭ－０１" as typed on a phone
    if len(parts) != 3:
        return _answer(ctx, ctx.t("classes.sub.usage"))
    class_ref, out_no, in_no = parts[0], parts[1].upper(), parts[2].upper()
    target = f"{class_ref} {out_no}>{in_no}"
    people = await employees_by_number(ctx.session, [out_no, in_no], within=scope)
    cls = await find_class(ctx.session, class_ref) if out_no in people and in_no in people else None
    if cls is None:
        await _refused(ctx, target, "classes.sub.unreachable")
        return _answer(ctx, unreachable(ctx, scope))
    leaving, replacement = people[out_no], people[in_no]
    row = await enrollment_of(ctx.session, cls.id, leaving.id)
    if row is None:
        await _refused(ctx, target, "classes.refuse.sub_not_enrolled")
        return _answer(ctx, ctx.t("classes.refuse.sub_not_enrolled", name=leaving.name))
    refusal = await substitute_refusal(ctx.session, row, leaving, replacement, cls, scope, ctx.app.clock.now(),
                                       deps(ctx), ctx.lang)
    if refusal is not None:
        await _refused(ctx, target, refusal.key)
        return _answer(ctx, refusal_text(ctx, refusal))
    text = ctx.t("classes.sub.confirm", title=fmt.class_title(ctx.app.catalog, cls, ctx.lang, ctx.t),
                 when=fmt.meetings_text(cls, ctx.lang, ctx.t),
                 out=ctx.t("classes.sub.person", name=leaving.name, employee_no=leaving.employee_no),
                 replacement=ctx.t("classes.sub.person", name=replacement.name, employee_no=replacement.employee_no),
                 told=await who_is_told(ctx, leaving, replacement))
    yes = ctx.choice("classes.button.sub_yes", ConfirmSubstitute(row.id, replacement.id))
    no = ctx.choice("classes.button.not_now", Decline("sub"))
    return HandlerResult([Reply.confirm(text, yes, no)], intent=Intent.ENROLL)


async def confirm_substitute(ctx: Ctx, msg: IncomingMessage, action: ConfirmSubstitute) -> HandlerResult:
    """HR confirmed: check the role again (audited), then move the seat in one transaction; says who is told.

    A button naming someone outside the officer's agencies (a forged one, or a role revoked since) gets
    the same sentence as in :func:`substitute_text`.
    """
    actor = ctx.linked
    target = f"enrollment:{action.enrollment_id}>{action.substitute_id}"
    scope = await hr_scope(ctx.session, actor)
    if scope is None:  # the role first: a button pressed by someone who is not HR says nothing of the seat
        await _refused(ctx, target, "classes.sub.not_hr")
        return _answer(ctx, ctx.t("classes.sub.not_hr"), menu=True)
    found = await enrollment_with_person(ctx.session, action.enrollment_id)
    replacement = await employee_by_id(ctx.session, action.substitute_id)
    cls = await get_class(ctx.session, found[0].class_id) if found is not None else None
    if found is None or replacement is None or cls is None:
        if scope.city:  # city HR may see every seat: nothing to hide, the button is simply stale
            return stale(ctx, Intent.ENROLL)
        found = None
    if found is None or replacement is None or cls is None or not scope.covers(replacement.agency):
        # a forged or forwarded button: an id that is nobody's and one outside the scope read the same
        await _refused(ctx, target, "classes.sub.unreachable")
        return _answer(ctx, unreachable(ctx, scope), menu=True)
    result = await substitute_as(ctx.session, actor, cls, found[1], replacement, actor_label=ctx.actor,
                                 now=ctx.app.clock.now(), deps=deps(ctx), lang=ctx.lang)
    if not result.ok:
        assert result.refusal is not None
        if result.refusal.key == "classes.refuse.sub_scope":
            return _answer(ctx, unreachable(ctx, await hr_scope(ctx.session, actor) or Scope()), menu=True)
        return _answer(ctx, refusal_text(ctx, result.refusal), menu=True)
    told = {p.id for p, ok in ((found[1], result.leaving_told), (replacement, result.replacement_told)) if ok}
    return _answer(ctx, ctx.t("classes.sub.done", replacement=replacement.name,
                              told=await who_is_told(ctx, found[1], replacement, told=told)), menu=True)


FEATURE = Feature(
    name="substitute",
    actions={ConfirmSubstitute: Route(Intent.ENROLL, confirm_substitute, needs_link="enroll")},
    intents={"substitute": Route(Intent.ENROLL, substitute_text, needs_link="enroll")},
)
