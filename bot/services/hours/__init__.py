"""Learning hours: the plan's hour rules as pure functions, an employee's status, the hours import and the report.

Other packages import only what this module exports.
"""

from bot.services.hours.compliance import ComplianceReport, build_compliance, compliance_json
from bot.services.hours.format import format_hours
from bot.services.hours.imports import HoursImportReport, import_hours, load_hours_mapping
from bot.services.hours.json import status_to_json
from bot.services.hours.records import record_with_owner
from bot.services.hours.report import agencies_path, build_report, write_csv, write_xlsx
from bot.services.hours.status import (
    FORFEIT_LEAVE_OVER_LIMIT,
    FORFEIT_UNEXCUSED_ABSENCE,
    BucketStatus,
    HoursStatus,
    RecordView,
    attendance_outcome,
    bucket_status,
    compute_status,
    forfeit_reason_text,
    load_status,
    suggested_courses,
)

__all__ = [
    "FORFEIT_LEAVE_OVER_LIMIT",
    "FORFEIT_UNEXCUSED_ABSENCE",
    "BucketStatus",
    "ComplianceReport",
    "HoursImportReport",
    "HoursStatus",
    "RecordView",
    "agencies_path",
    "attendance_outcome",
    "bucket_status",
    "build_compliance",
    "build_report",
    "compliance_json",
    "compute_status",
    "forfeit_reason_text",
    "format_hours",
    "import_hours",
    "load_hours_mapping",
    "load_status",
    "record_with_owner",
    "status_to_json",
    "suggested_courses",
    "write_csv",
    "write_xlsx",
]
