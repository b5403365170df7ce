"""Certificate photos and rewards (拾貳): photo validation, private storage, the reward rules, claims, HR review.

Other packages import only what this module exports.
"""

from bot.services.certificates.claims import (
    DECIDE_ACTION,
    Answers,
    Decision,
    RewardRow,
    claim_with_claimant,
    claims_of,
    decide_claim,
    draft_of,
    evaluate,
    history,
    list_claims,
    recheck,
    reviewable,
    rewards_report,
    start_claim,
    submit_claim,
    today_in_taipei,
    withdraw_claim,
)
from bot.services.certificates.deps import CertDeps
from bot.services.certificates.notices import DECIDED, HR_DIGEST, NOTICE_KINDS, WINDOW_CLOSING
from bot.services.certificates.ocr import OcrReader, Prefill, parse_prefill, rapidocr_reader
from bot.services.certificates.photos import Photo, PhotoProblem, preview, validate_photo
from bot.services.certificates.reminders import claim_window_reminders, hr_pending_digest
from bot.services.certificates.report import reward_table, write_rewards
from bot.services.certificates.retention import purge_photos
from bot.services.certificates.rules import (
    History,
    Outcome,
    Tier,
    add_months,
    check_claim,
    grade_of,
    level_by_score,
    parse_date,
    parse_score,
    score_problem,
    tier_for,
    window_end,
)
from bot.services.certificates.settings import (
    CertificateSettings,
    Scheme,
    TestDef,
    load_certificate_settings,
)
from bot.services.certificates.signing import PATH_PREFIX, SignedPhoto, UrlSigner
from bot.services.certificates.storage import MediaStore

__all__ = [
    "DECIDED",
    "DECIDE_ACTION",
    "HR_DIGEST",
    "NOTICE_KINDS",
    "PATH_PREFIX",
    "WINDOW_CLOSING",
    "Answers",
    "CertDeps",
    "CertificateSettings",
    "Decision",
    "History",
    "MediaStore",
    "OcrReader",
    "Outcome",
    "Photo",
    "PhotoProblem",
    "Prefill",
    "RewardRow",
    "Scheme",
    "SignedPhoto",
    "TestDef",
    "Tier",
    "UrlSigner",
    "add_months",
    "check_claim",
    "claim_window_reminders",
    "claim_with_claimant",
    "claims_of",
    "decide_claim",
    "draft_of",
    "evaluate",
    "grade_of",
    "history",
    "hr_pending_digest",
    "level_by_score",
    "list_claims",
    "load_certificate_settings",
    "parse_date",
    "parse_prefill",
    "parse_score",
    "preview",
    "purge_photos",
    "rapidocr_reader",
    "recheck",
    "reviewable",
    "reward_table",
    "rewards_report",
    "score_problem",
    "start_claim",
    "submit_claim",
    "tier_for",
    "today_in_taipei",
    "validate_photo",
    "window_end",
    "withdraw_claim",
    "write_rewards",
]
