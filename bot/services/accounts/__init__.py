"""Accounts: employees and their chat accounts, the roster import, one-time binding codes, HR roles and the audit.

Other packages import only what this module exports.
"""

from bot.services.accounts.binding import (
    BindingPolicy,
    BindResult,
    attempt_bind,
    format_code,
    issue_codes,
    load_policy,
    lock_status,
    normalize_code,
    prepare_codes,
    unbind,
    unbind_employee,
    verify_code,
)
from bot.services.accounts.employees import (
    bind_console_account,
    employee_by_id,
    employees_by_number,
    find_employee,
    with_chat_account,
)
from bot.services.accounts.roles import AGENCY_HR, Scope, authorize, grant, list_roles, record, revoke, scope_of
from bot.services.accounts.roster import (
    DeactivationLimit,
    RosterReport,
    Transfer,
    employees_for_codes,
    import_roster,
    load_import_limits,
    load_roster_mapping,
    roster_agencies,
)
from bot.services.accounts.unbound import UnboundReport, build_unbound, unbound_json

__all__ = [
    "AGENCY_HR",
    "BindResult",
    "BindingPolicy",
    "DeactivationLimit",
    "RosterReport",
    "Scope",
    "Transfer",
    "UnboundReport",
    "attempt_bind",
    "authorize",
    "bind_console_account",
    "build_unbound",
    "employee_by_id",
    "employees_by_number",
    "employees_for_codes",
    "find_employee",
    "format_code",
    "grant",
    "import_roster",
    "issue_codes",
    "list_roles",
    "load_import_limits",
    "load_policy",
    "load_roster_mapping",
    "lock_status",
    "normalize_code",
    "prepare_codes",
    "record",
    "revoke",
    "roster_agencies",
    "scope_of",
    "unbind",
    "unbind_employee",
    "unbound_json",
    "verify_code",
    "with_chat_account",
]
