"""Classes (班期) and enrollment: the classes file, eligibility, seats and waitlists, HR's class changes, attendance.

Modules, one reason to change each: ``settings`` (``enrollment.yaml``), ``classes_file`` (the file HR
imports), ``eligibility`` (pure rules), ``refusals`` (every "why not"), ``locks`` (the guarded UPDATEs),
``transitions`` (every status change of an enrollment), ``enrollment`` (enroll, cancel, promote,
substitute), ``changes`` (HR's class changes), ``notices`` (what people are told), ``queries`` and
``views`` (reads), ``imports``, ``attendance``, ``report`` (HR's files and report), ``format`` (how a
class reads).

Other packages import only what this module exports.
"""

from bot.services.classes.attendance import (
    AttendanceLine,
    AttendanceReport,
    import_attendance,
    read_attendance_csv,
    read_attendance_rows,
)
from bot.services.classes.classes_file import ClassesFile, read_classes_file
from bot.services.classes.deps import Deps
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
    CLI_SCOPE,
    SUB_ACTION,
    CancelResult,
    EnrollResult,
    SubstituteResult,
    cancel,
    enroll,
    hr_scope,
    substitute,
    substitute_as,
)
from bot.services.classes.format import term_text
from bot.services.classes.imports import ClassImportReport, import_classes, seed_demo_classes
from bot.services.classes.notices import (
    CLASS_CANCELLED,
    CLASS_MOVED,
    CLASS_RESCHEDULED,
    CLASS_RESCHEDULED_MOVED,
    NOTICE_KINDS,
    PROMOTED,
    SUBSTITUTED_IN,
    SUBSTITUTED_OUT,
    ClassFacts,
    MeetingFacts,
)
from bot.services.classes.queries import (
    enrollment_of,
    enrollment_with_person,
    find_class,
    get_class,
    open_for_registration,
    own_enrollment,
    upcoming_classes,
    waitlist_length,
    waitlist_lengths,
)
from bot.services.classes.refusals import PersonalState, enroll_refusal, personal_states, substitute_refusal
from bot.services.classes.report import class_report
from bot.services.classes.settings import EnrollmentSettings, Fairness, load_enrollment_settings
from bot.services.classes.transitions import ACTIVE
from bot.services.classes.views import EnrollmentView, cancellable, my_enrollments

__all__ = [
    "ACTIVE", "CLASS_CANCELLED", "CLASS_MOVED", "CLASS_RESCHEDULED", "CLASS_RESCHEDULED_MOVED", "CLI_SCOPE",
    "NOTICE_KINDS", "PROMOTED", "SUBSTITUTED_IN", "SUBSTITUTED_OUT", "SUB_ACTION", "AttendanceLine",
    "AttendanceReport", "CancelResult", "ClassFacts", "ClassImportReport", "ClassesFile", "Deps", "EligibilityRule",
    "EmployeeFacts", "EnrollResult", "EnrollmentSettings", "EnrollmentView", "Fairness", "MeetingFacts",
    "PeriodKind", "PersonalState", "Refusal", "SubstituteResult", "cancel", "cancellable", "check_eligibility",
    "class_report",
    "enroll", "enroll_refusal", "enrollment_of", "enrollment_with_person", "find_class", "get_class", "hr_scope",
    "import_attendance", "import_classes", "load_enrollment_settings", "months_before", "my_enrollments",
    "open_for_registration", "own_enrollment", "period_bounds", "personal_states", "read_attendance_csv",
    "read_attendance_rows",
    "read_classes_file", "seed_demo_classes", "substitute", "substitute_as", "substitute_refusal", "term_text",
    "upcoming_classes", "waitlist_length", "waitlist_lengths", "window_state",
]
