"""Classes (班期) and enrollment: the classes file, eligibility, seats and waitlists, HR's class changes, attendance.

Other packages import only what this module exports.
"""

from bot.services.classes.attendance import AttendanceLine, AttendanceReport, import_attendance, read_attendance_csv
from bot.services.classes.eligibility import (
    EligibilityRule,
    EmployeeFacts,
    PeriodKind,
    Refusal,
    check_eligibility,
    months_before,
    period_bounds,
    window_state,
)
from bot.services.classes.enrollment import (
    ACTIVE,
    CLI_SCOPE,
    SUB_ACTION,
    Deps,
    EnrollmentView,
    EnrollResult,
    active_counts,
    cancel,
    cancellable,
    enroll,
    enroll_refusal,
    enrollment_of,
    enrollment_with_person,
    hr_scope,
    my_enrollments,
    own_enrollment,
    substitute,
    substitute_as,
    substitute_refusal,
    waitlist_length,
)
from bot.services.classes.files import (
    ClassesFile,
    EnrollmentSettings,
    Fairness,
    find_class,
    get_class,
    load_enrollment_settings,
    open_for_registration,
    read_classes_file,
    upcoming_classes,
)
from bot.services.classes.format import term_text
from bot.services.classes.imports import ClassImportReport, import_classes, seed_demo_classes
from bot.services.classes.report import class_report

__all__ = [
    "ACTIVE", "CLI_SCOPE", "SUB_ACTION", "AttendanceLine", "AttendanceReport", "ClassImportReport",
    "ClassesFile", "Deps", "EligibilityRule", "EmployeeFacts", "EnrollResult", "EnrollmentSettings",
    "EnrollmentView", "Fairness", "PeriodKind", "Refusal", "active_counts", "cancel", "cancellable",
    "check_eligibility", "class_report", "enroll", "enroll_refusal", "enrollment_of", "enrollment_with_person",
    "find_class", "get_class", "hr_scope", "import_attendance", "import_classes", "load_enrollment_settings",
    "months_before", "my_enrollments", "open_for_registration", "own_enrollment", "period_bounds",
    "read_attendance_csv", "read_classes_file", "seed_demo_classes", "substitute", "substitute_as",
    "substitute_refusal", "term_text", "upcoming_classes", "waitlist_length", "window_state",
]
