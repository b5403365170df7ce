"""The hours status as the JSON contract of ``abc-bot hours --json`` (docs/cli.md).

Separate from the rules because it changes with the contract, not with the plan.
"""

from __future__ import annotations

from decimal import Decimal

from bot.db.models.core import Employee
from bot.services.catalog import RulesFile
from bot.services.hours.status import ZERO, HoursStatus


def json_number(value: Decimal) -> int | float:
    """An hours value for JSON: an integer when whole, else a float (values have at most two decimals)."""
    return int(value) if value == value.to_integral_value() else float(value)


def status_to_json(employee: Employee, status: HoursStatus, rules: RulesFile) -> dict[str, object]:
    """The ``abc-bot hours --json`` shape (a contract: see docs/cli.md)."""
    from bot.dates import format_roc

    mandatory = [b for b in status.buckets if b.mandatory]
    return {
        "employee": {"employee_no": employee.employee_no, "name": employee.name, "agency": employee.agency,
                     "unit": employee.unit, "rank": employee.rank, "active": employee.active},
        "plan_year": status.plan_year,
        "as_of": status.today.isoformat(),
        "as_of_roc": format_roc(status.today),
        "requirement_applies": status.applies,
        "hired_this_year": status.hired_this_year,
        "rules": {"surplus_to_other": rules.hours.surplus_to_other, "source": rules.source},
        "buckets": [{"id": b.id, "title": b.title, "title_en": b.title_en, "mandatory": b.mandatory,
                     "required": json_number(b.required), "done": json_number(b.done),
                     "counted": json_number(b.counted), "surplus": json_number(b.surplus),
                     "remaining": json_number(status.owed(b))} for b in status.buckets],
        "totals": {"required": json_number(status.required), "done": json_number(status.done),
                   "counted": json_number(status.counted), "remaining": json_number(status.remaining),
                   "mandatory_required": json_number(sum((b.required for b in mandatory), ZERO)),
                   "mandatory_remaining": json_number(status.mandatory_remaining)},
        "deadlines": [{"id": d.id, "title": d.title, "title_en": d.title_en, "date": d.date.isoformat(),
                       "date_roc": format_roc(d.date), "days_left": d.days_left, "passed": d.passed,
                       "remaining": json_number(d.remaining)} for d in status.deadlines],
        "sources": {s: json_number(h) for s, h in status.hours_by_source().items()},
        "records": [{"id": r.id, "date": r.occurred_on.isoformat(), "date_roc": format_roc(r.occurred_on),
                     "title": r.title, "course_code": r.course_code, "hours": json_number(r.hours), "bucket": r.bucket,
                     "mode": r.mode, "source": r.source, "credited": r.credited,
                     "forfeit_reason": r.forfeit_reason} for r in status.records],
    }
