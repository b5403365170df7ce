"""Binding a chat account to an employee (綁定 / "link account") and unbinding it (解除綁定).

The flow has two named states (see docs/binding.mmd): ``bind.employee_no`` waits for the employee
number, ``bind.code`` for the one-time code. The state data holds the number typed and when the flow
started; a flow older than ``flow_timeout_minutes`` is forgotten. Text that is clearly another command
(it matches an intent and is not an employee number or a code) leaves the flow and is answered as that
command. The bot never asks for a national ID or a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.accounts import (
    BindingPolicy,
    BindResult,
    attempt_bind,
    format_code,
    lock_status,
    normalize_code,
    unbind,
)
from bot.services.common import NATIONAL_ID, parse_employee_no
from handlers.common import ShowHelp, ShowHours, StartBind, main_menu


@dataclass(frozen=True)
class ConfirmUnbind(Action, kind="ub"):
    """"Yes, unlink" on the unbind confirmation."""


@dataclass(frozen=True)
class BindWithCode(Action, kind="tb"):
    """A binding link HR handed out (Telegram's ``/start bind_<code>``): the code is known, the number is asked."""

    code: str


STATE_EMPLOYEE_NO = "bind.employee_no"
STATE_CODE = "bind.code"
EXAMPLE_CODE = "K7PMQ3XA"


def _policy(ctx: Ctx) -> BindingPolicy:
    return ctx.app.binding


def _cancel_button(ctx: Ctx) -> Choice:
    return Choice(ctx.t("bind.button.cancel"), ShowHelp())


def _code_values(policy: BindingPolicy) -> dict[str, Any]:
    example = (EXAMPLE_CODE * 2)[:policy.code_length]
    return {"length": policy.code_length, "example": format_code(example, policy)}


def _ask_number(ctx: Ctx, prefix: str | None = None) -> HandlerResult:
    # A prefix (national ID typed, wrong code) already asks for the number again; the greeting would repeat it.
    text = prefix or ctx.t("bind.ask_employee_no")
    return HandlerResult([Reply.plain(text, [_cancel_button(ctx)])], state=STATE_EMPLOYEE_NO,
                         data={"started": ctx.app.clock.now().isoformat()}, intent=Intent.BIND)


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
    parts = arg.split() if isinstance(arg, str) else []
    if parts and NATIONAL_ID.match(parts[0].upper()):
        return _ask_number(ctx, ctx.t("bind.no_national_id"))
    number = _employee_no(parts[0]) if parts else None
    if number is None:
        return _ask_number(ctx)
    if len(parts) >= 2:
        return await _try_code(ctx, number, " ".join(parts[1:]))
    return await _ask_code(ctx, number)


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


async def _ask_code(ctx: Ctx, number: str) -> HandlerResult:
    policy = _policy(ctx)
    wait = await lock_status(ctx.session, ctx.account.channel, ctx.account.external_id, number, policy=policy,
                             now=ctx.app.clock.now())
    if wait:
        return HandlerResult([Reply.plain(ctx.t("bind.locked", minutes=wait), main_menu(ctx))], state=None,
                             intent=Intent.BIND)
    return HandlerResult([Reply.plain(ctx.t("bind.ask_code", **_code_values(policy)), [_cancel_button(ctx)])],
                         state=STATE_CODE, data={"employee_no": number, "started": ctx.app.clock.now().isoformat()},
                         intent=Intent.BIND)


async def _try_code(ctx: Ctx, number: str, code_text: str) -> HandlerResult:
    policy = _policy(ctx)
    outcome = await attempt_bind(ctx.session, ctx.account, number, code_text, policy=policy,
                                 now=ctx.app.clock.now())
    if outcome.result is BindResult.LOCKED:
        return HandlerResult([Reply.plain(ctx.t("bind.locked", minutes=outcome.retry_after_minutes),
                                          main_menu(ctx))], state=None, intent=Intent.BIND)
    if outcome.result is BindResult.WRONG or outcome.employee is None:
        return _ask_number(ctx, ctx.t("bind.wrong"))
    text = ctx.t("bind.done", name=outcome.employee.name)
    if outcome.replaced:
        text += "\n" + ctx.t("bind.replaced")
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
    if parts and NATIONAL_ID.match(parts[0].upper()):
        return _ask_number(ctx, ctx.t("bind.no_national_id"))
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
    actions={StartBind: BIND, ConfirmUnbind: Route(Intent.BIND, confirm_unbind),
             BindWithCode: Route(Intent.BIND, bind_with_code)},
    intents={"unbind": Route(Intent.BIND, ask_unbind), "bind": BIND},
    states={STATE_EMPLOYEE_NO: Route(Intent.BIND, on_employee_no), STATE_CODE: Route(Intent.BIND, on_code)},
)
