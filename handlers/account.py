"""Binding a chat account to an employee (綁定 / "link account") and unbinding it (解除綁定).

The flow has two named states (see docs/binding.mmd): ``bind.employee_no`` waits for the employee
number, ``bind.code`` for the one-time code. The state data holds the number typed, when the flow
started, and (``then``) the button the user pressed before being asked to link, which is answered once the
account is linked; a flow older than ``flow_timeout_minutes`` is forgotten. After a lock-out,
``bind.locked`` keeps numbers and codes typed until the lock ends from being searched and echoed. Text that is
clearly another command (it matches an intent and is not an employee number or a code) leaves the flow and
is answered as that command. The bot never asks for a national ID or a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Redirect, Reply
from bot.routing import Feature, Route
from bot.services.accounts import (
    BindingPolicy,
    BindResult,
    attempt_bind,
    find_employee,
    format_code,
    lock_status,
    normalize_code,
    unbind,
)
from bot.services.common import holds_national_id, parse_employee_no
from handlers.common import BindThen, ShowHelp, ShowHours, StartBind, main_menu, unpack_then


@dataclass(frozen=True)
class ConfirmUnbind(Action, kind="ub"):
    """"Yes, unlink" on the unbind confirmation."""


@dataclass(frozen=True)
class BindWithCode(Action, kind="tb"):
    """A binding link HR handed out (Telegram's ``/start bind_<code>``): the code is known, the number is asked."""

    code: str


STATE_EMPLOYEE_NO = "bind.employee_no"
STATE_CODE = "bind.code"
STATE_LOCKED = "bind.locked"
FORGOT_RULE = "forgot_employee_no"
EXAMPLE_CODE = "K7PMQ3XA"


def _policy(ctx: Ctx) -> BindingPolicy:
    return ctx.app.binding


def _cancel_button(ctx: Ctx) -> Choice:
    return Choice(ctx.t("bind.button.cancel"), ShowHelp())


def _code_values(policy: BindingPolicy) -> dict[str, Any]:
    example = (EXAMPLE_CODE * 2)[:policy.code_length]
    return {"length": policy.code_length, "example": format_code(example, policy)}


def _then(ctx: Ctx) -> dict[str, str]:
    """The button to answer after linking, carried through the flow's states."""
    then = ctx.data.get("then")
    return {"then": then} if isinstance(then, str) and then else {}


def _ask_number(ctx: Ctx, prefix: str | None = None, then: dict[str, str] | None = None) -> HandlerResult:
    # A prefix (national ID typed, wrong code) already asks for the number again; the greeting would repeat it.
    text = prefix or ctx.t("bind.ask_employee_no")
    return HandlerResult([Reply.plain(text, [_cancel_button(ctx)])], state=STATE_EMPLOYEE_NO,
                         data={"started": ctx.app.clock.now().isoformat(), **(_then(ctx) if then is None else then)},
                         intent=Intent.BIND)


def _locked(ctx: Ctx, minutes: int) -> HandlerResult:
    until = ctx.app.clock.now() + timedelta(minutes=minutes)
    return HandlerResult([Reply.plain(ctx.t("bind.locked", minutes=minutes), main_menu(ctx))], state=STATE_LOCKED,
                         data={"until": until.isoformat()}, intent=Intent.BIND)


def _already(ctx: Ctx) -> HandlerResult | None:
    emp = ctx.employee
    if emp is None or not emp.active:
        return None
    return HandlerResult([Reply.plain(ctx.t("bind.already", name=emp.name, employee_no=emp.employee_no),
                                      main_menu(ctx))], state=None, intent=Intent.BIND)


def _looks_like_code(text: str, policy: BindingPolicy) -> str | None:
    code = normalize_code(text)
    if len(code) == policy.code_length and code.isascii() and code.isalnum():
        return code
    return None


def _employee_no(text: str) -> str | None:
    try:
        return parse_employee_no(text)
    except ValueError:
        return None


async def start_bind(ctx: Ctx, msg: IncomingMessage, arg: object) -> HandlerResult:
    """"綁定" (optionally "綁定 T0001" or "綁定 T0001 K7PM-Q3XA"), or its button: ask for what is missing."""
    already = _already(ctx)
    if already is not None:
        return already
    then = {"then": arg.then} if isinstance(arg, BindThen) else {}
    parts = arg.split() if isinstance(arg, str) else []
    if isinstance(arg, str) and holds_national_id(arg):
        return _ask_number(ctx, ctx.t("bind.no_national_id"), then)
    number = _employee_no(parts[0]) if parts else None
    if number is None:
        return _ask_number(ctx, then=then)
    if len(parts) >= 2:
        return await _try_code(ctx, number, " ".join(parts[1:]))
    return await _ask_code(ctx, number, then)


async def bind_with_code(ctx: Ctx, msg: IncomingMessage, action: BindWithCode) -> HandlerResult:
    """A binding link: keep its code and ask for the employee number (a code that cannot be one is ignored)."""
    already = _already(ctx)
    if already is not None:
        return already
    code = _looks_like_code(action.code, _policy(ctx))
    if code is None:
        return _ask_number(ctx)
    return HandlerResult([Reply.plain(ctx.t("bind.link.ask_employee_no"), [_cancel_button(ctx)])],
                         state=STATE_EMPLOYEE_NO, data={"started": ctx.app.clock.now().isoformat(), "code": code},
                         intent=Intent.BIND)


async def _ask_code(ctx: Ctx, number: str, then: dict[str, str] | None = None) -> HandlerResult:
    policy = _policy(ctx)
    wait = await lock_status(ctx.session, ctx.account.channel, ctx.account.external_id, number, policy=policy,
                             now=ctx.app.clock.now())
    if wait:
        return _locked(ctx, wait)
    return HandlerResult([Reply.plain(ctx.t("bind.ask_code", **_code_values(policy)), [_cancel_button(ctx)])],
                         state=STATE_CODE, data={"employee_no": number, "started": ctx.app.clock.now().isoformat(),
                                                 **(_then(ctx) if then is None else then)},
                         intent=Intent.BIND)


async def _try_code(ctx: Ctx, number: str, code_text: str) -> HandlerResult:
    policy = _policy(ctx)
    outcome = await attempt_bind(ctx.session, ctx.account, number, code_text, policy=policy,
                                 now=ctx.app.clock.now())
    if outcome.result is BindResult.LOCKED:
        return _locked(ctx, outcome.retry_after_minutes or 1)
    if outcome.result is BindResult.WRONG or outcome.employee is None:
        return _ask_number(ctx, ctx.t("bind.wrong"))
    text = ctx.t("bind.done", name=outcome.employee.name)
    if outcome.replaced:
        text += "\n" + ctx.t("bind.replaced")
    then = unpack_then(str(ctx.data.get("then", "")))
    if then is not None:  # continue with the button pressed before linking (報名這班 …)
        return HandlerResult([Reply.plain(f"{text}\n{ctx.t('bind.continue')}")], state=None, intent=Intent.BIND,
                             redirect=Redirect(action=then))
    buttons = [ctx.choice("hours.button.refresh", ShowHours()), *main_menu(ctx)[:1],
               ctx.choice("menu.button.menu", ShowHelp())]
    return HandlerResult([Reply.plain(text, buttons)], state=None, intent=Intent.BIND)


def _expired(ctx: Ctx) -> bool:
    started = ctx.data.get("started")
    if not isinstance(started, str):
        return True
    try:
        at = datetime.fromisoformat(started)
    except ValueError:
        return True
    return ctx.app.clock.now() - at > timedelta(minutes=_policy(ctx).flow_timeout_minutes)


def _aborts(ctx: Ctx, text: str) -> bool:
    """The text is a "stop" word (the ``abort`` rule of data/intents.yaml, also used outside any flow)."""
    match = ctx.app.intents.command(text)
    return match is not None and match.name == "abort"


async def _common(ctx: Ctx, msg: IncomingMessage, text: str) -> HandlerResult | None:
    """What both states do first: time-out, abort words."""
    if _expired(ctx):
        return HandlerResult([Reply.plain(ctx.t("bind.expired"), main_menu(ctx))], state=None, intent=Intent.BIND,
                             or_command=True)
    if _aborts(ctx, text):
        return HandlerResult([Reply.plain(ctx.t("bind.cancelled"), main_menu(ctx))], state=None, intent=Intent.BIND)
    return None


async def on_employee_no(ctx: Ctx, msg: IncomingMessage, text: str) -> HandlerResult:
    """State ``bind.employee_no``: the text should be the employee number (or number and code)."""
    early = await _common(ctx, msg, text)
    if early is not None:
        return early
    parts = text.split()
    if holds_national_id(text):  # never kept, logged or shown back
        return _ask_number(ctx, ctx.t("bind.no_national_id"))
    if _forgot_number(ctx, text):
        return HandlerResult([Reply.plain(ctx.t("bind.forgot_number"), [_cancel_button(ctx)])], intent=Intent.BIND)
    if await _is_code_not_number(ctx, text):
        return HandlerResult([Reply.plain(ctx.t("bind.is_code"), [_cancel_button(ctx)])], intent=Intent.BIND)
    number = _employee_no(parts[0]) if len(parts) in (1, 2) else None
    if number is not None and len(parts) == 2 and _looks_like_code(parts[1], _policy(ctx)):
        return await _try_code(ctx, number, parts[1])
    code = ctx.data.get("code")
    if number is not None and len(parts) == 1 and isinstance(code, str):  # the code came with a binding link
        return await _try_code(ctx, number, code)
    if number is not None and len(parts) == 1:
        return await _ask_code(ctx, number)
    return HandlerResult([Reply.plain(ctx.t("bind.not_employee_no"), [_cancel_button(ctx)])], intent=Intent.BIND,
                         or_command=True)


def _forgot_number(ctx: Ctx, text: str) -> bool:
    """"我忘記員工編號了": the ``forgot_employee_no`` rule of data/intents.yaml."""
    match = ctx.app.intents.match(text)
    return match is not None and match.name == FORGOT_RULE


async def _is_code_not_number(ctx: Ctx, text: str) -> bool:
    """Text typed at the number prompt that is a linking code (its grouped form, or its shape and no such employee)."""
    policy = _policy(ctx)
    code = _looks_like_code(text, policy)
    if code is None or not set(code) <= set(policy.code_alphabet):
        return False
    if text.strip().upper() == format_code(code, policy) and format_code(code, policy) != code:
        return True
    return await find_employee(ctx.session, code) is None


async def on_locked(ctx: Ctx, msg: IncomingMessage, text: str) -> HandlerResult:
    """State ``bind.locked``: a number or code typed while linking is locked is not searched or shown back."""
    until = ctx.data.get("until")
    try:
        left = datetime.fromisoformat(str(until)) - ctx.app.clock.now()
    except ValueError:
        left = timedelta(0)
    if holds_national_id(text):
        return HandlerResult([Reply.plain(ctx.t("bind.no_national_id"), main_menu(ctx))], state=None,
                             intent=Intent.BIND)
    code = _looks_like_code(text, _policy(ctx))
    # A code (its length, its alphabet) or a number (with a digit), not a word such as "python".
    shaped = (code is not None and set(code) <= set(_policy(ctx).code_alphabet)) or \
        (_employee_no(text) is not None and any(ch.isdigit() for ch in text))
    if left <= timedelta(0) or not shaped or _aborts(ctx, text):
        # The lock is over, or this is something else: answer it as if no flow were open.
        match = ctx.app.intents.match(text)
        target = Redirect(rule=match.name, text=match.argument) if match is not None else Redirect(text=text)
        return HandlerResult([], state=None, redirect=target, intent=Intent.BIND)
    minutes = max(1, -(-int(left.total_seconds()) // 60))
    return HandlerResult([Reply.plain(ctx.t("bind.locked_still", minutes=minutes), main_menu(ctx))],
                         intent=Intent.BIND, or_command=True)


async def forgot_number(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """"我忘記員工編號了" outside the flow: where to find it, and the link button."""
    return HandlerResult([Reply.plain(ctx.t("bind.forgot_number"),
                                      [Choice(ctx.t("bind.button.start"), StartBind()), *main_menu(ctx)])],
                         state=None, intent=Intent.BIND)


async def on_code(ctx: Ctx, msg: IncomingMessage, text: str) -> HandlerResult:
    """State ``bind.code``: the text should be the one-time code for the number given before."""
    early = await _common(ctx, msg, text)
    if early is not None:
        return early
    policy = _policy(ctx)
    number = str(ctx.data.get("employee_no", ""))
    if _looks_like_code(text, policy) and number:
        return await _try_code(ctx, number, text)
    return HandlerResult([Reply.plain(ctx.t("bind.not_code", **_code_values(policy)), [_cancel_button(ctx)])],
                         intent=Intent.BIND, or_command=True)


async def ask_unbind(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """"解除綁定": ask to confirm (an unbound account is told so)."""
    emp = ctx.employee
    if emp is None:
        return HandlerResult([Reply.plain(ctx.t("unbind.not_bound"), main_menu(ctx))], state=None,
                             intent=Intent.BIND)
    return HandlerResult([Reply.confirm(ctx.t("unbind.confirm", name=emp.name, employee_no=emp.employee_no),
                                        Choice(ctx.t("unbind.button.yes"), ConfirmUnbind()),
                                        Choice(ctx.t("unbind.button.no"), ShowHelp()))],
                         state=None, intent=Intent.BIND)


async def confirm_unbind(ctx: Ctx, msg: IncomingMessage, _: ConfirmUnbind) -> HandlerResult:
    """The "yes, unlink" button."""
    employee = await unbind(ctx.session, ctx.account)
    key = "unbind.done" if employee is not None else "unbind.not_bound"
    return HandlerResult([Reply.plain(ctx.t(key), main_menu(ctx))], state=None, intent=Intent.BIND)


BIND = Route(Intent.BIND, start_bind)

FEATURE = Feature(
    name="account",
    actions={StartBind: BIND, BindThen: BIND, ConfirmUnbind: Route(Intent.BIND, confirm_unbind),
             BindWithCode: Route(Intent.BIND, bind_with_code)},
    intents={"unbind": Route(Intent.BIND, ask_unbind), "bind": BIND,
             FORGOT_RULE: Route(Intent.BIND, forgot_number)},
    states={STATE_EMPLOYEE_NO: Route(Intent.BIND, on_employee_no), STATE_CODE: Route(Intent.BIND, on_code),
            STATE_LOCKED: Route(Intent.BIND, on_locked)},
)
