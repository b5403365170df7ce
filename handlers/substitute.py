"""Substitutes (遞補) by agency HR in chat: "遞補 班期代碼 原報名者員編 遞補者員編", then confirm."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.accounts import employee_by_id, employees_by_number, roles
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


async def substitute_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"遞補 班期代碼 原報名者員編 遞補者員編" (HR only): check, then ask to confirm."""
    actor = ctx.linked
    scope = await hr_scope(ctx.session, actor)
    if scope is None:
        await roles.record(ctx.session, actor=ctx.actor, actor_employee_id=actor.id, action=SUB_ACTION,
                           target=arg[:200], allowed=False, now=ctx.app.clock.now())
        return HandlerResult([Reply.plain(ctx.t("classes.sub.not_hr"), main_menu(ctx))], intent=Intent.ENROLL)
    parts = unicodedata.normalize("NFKC", arg).split()  # full-width "ＤＥＭＯ－ＴＭ－０１" as typed on a phone
    if len(parts) != 3:
        return HandlerResult([Reply.plain(ctx.t("classes.sub.usage"), [back_to_menu(ctx)])], intent=Intent.ENROLL)
    class_ref, out_no, in_no = parts[0], parts[1].upper(), parts[2].upper()
    cls = await find_class(ctx.session, class_ref)
    people = await employees_by_number(ctx.session, [out_no, in_no])
    if cls is None:
        return HandlerResult([Reply.plain(ctx.t("classes.sub.no_class", ref=class_ref), [back_to_menu(ctx)])],
                             intent=Intent.ENROLL)
    missing = [n for n in (out_no, in_no) if n not in people]
    if missing:
        return HandlerResult([Reply.plain(ctx.t("classes.sub.no_employee", number=missing[0]), [back_to_menu(ctx)])],
                             intent=Intent.ENROLL)
    leaving, replacement = people[out_no], people[in_no]
    row = await enrollment_of(ctx.session, cls.id, leaving.id)
    if row is None:
        return HandlerResult([Reply.plain(ctx.t("classes.refuse.sub_not_enrolled", name=leaving.name),
                                          [back_to_menu(ctx)])], intent=Intent.ENROLL)
    refusal = await substitute_refusal(ctx.session, row, leaving, replacement, cls, scope, ctx.app.clock.now(),
                                       deps(ctx), ctx.lang)
    if refusal is not None:
        return HandlerResult([Reply.plain(refusal_text(ctx, refusal), [back_to_menu(ctx)])], intent=Intent.ENROLL)
    text = ctx.t("classes.sub.confirm", title=fmt.class_title(ctx.app.catalog, cls, ctx.lang),
                 when=fmt.meetings_text(cls, ctx.lang, ctx.t),
                 out=ctx.t("classes.sub.person", name=leaving.name, employee_no=leaving.employee_no),
                 replacement=ctx.t("classes.sub.person", name=replacement.name, employee_no=replacement.employee_no))
    yes = ctx.choice("classes.button.sub_yes", ConfirmSubstitute(row.id, replacement.id))
    no = ctx.choice("classes.button.not_now", Decline("sub"))
    return HandlerResult([Reply.confirm(text, yes, no)], intent=Intent.ENROLL)


async def confirm_substitute(ctx: Ctx, msg: IncomingMessage, action: ConfirmSubstitute) -> HandlerResult:
    """HR confirmed: check the role again (audited), then move the seat in one transaction; both are told."""
    actor = ctx.linked
    found = await enrollment_with_person(ctx.session, action.enrollment_id)
    replacement = await employee_by_id(ctx.session, action.substitute_id)
    cls = await get_class(ctx.session, found[0].class_id) if found is not None else None
    if found is None or replacement is None or cls is None:
        return stale(ctx, Intent.ENROLL)
    result = await substitute_as(ctx.session, actor, cls, found[1], replacement, actor_label=ctx.actor,
                                 now=ctx.app.clock.now(), deps=deps(ctx), lang=ctx.lang)
    if not result.ok:
        assert result.refusal is not None
        return HandlerResult([Reply.plain(refusal_text(ctx, result.refusal), main_menu(ctx))], intent=Intent.ENROLL)
    return HandlerResult([Reply.plain(ctx.t("classes.sub.done", replacement=replacement.name), main_menu(ctx))],
                         intent=Intent.ENROLL)


FEATURE = Feature(
    name="substitute",
    actions={ConfirmSubstitute: Route(Intent.ENROLL, confirm_substitute, needs_link="enroll")},
    intents={"substitute": Route(Intent.ENROLL, substitute_text, needs_link="enroll")},
)
