"""Every message key of the classes feature exists, including the ones the code builds at run time."""

from __future__ import annotations

import re
from pathlib import Path

from bot.db.models.classes import CANCEL_REASONS
from bot.services.classes import PeriodKind
from bot.texts import MessageCatalog

REPO = Path(__file__).resolve().parents[2]
FILES = [*(str(p.relative_to(REPO)) for p in (REPO / "handlers").rglob("*.py")),
         *(str(p.relative_to(REPO)) for p in (REPO / "bot" / "services").rglob("*.py"))]
LITERAL = re.compile(r"""["'](classes\.[a-z_]+(?:\.[a-z0-9_]+)+)["']""")


def test_every_classes_key_in_the_code_exists() -> None:
    keys = MessageCatalog.load().keys()
    used = {k for f in FILES for k in LITERAL.findall((REPO / f).read_text(encoding="utf-8"))}
    assert len(used) > 60  # the scan found the refusals, fields and buttons
    assert sorted(used - keys) == []


def test_keys_built_at_run_time_exist() -> None:
    keys = MessageCatalog.load().keys()
    built = {f"classes.status.cancelled_{r}" for r in CANCEL_REASONS}
    built |= {f"classes.period.{p}" for p in PeriodKind.__args__}  # type: ignore[attr-defined]
    built |= {f"classes.notice.{k}" for k in ("promoted", "class_cancelled", "substituted_out", "substituted_in")}
    built |= {f"classes.declined.{k}" for k in ("enroll", "cancel", "sub")}
    assert sorted(built - keys) == []
