"""Every HR chat command × every kind of user, as one table (issue 15, part 10).

The users (demo data, clock at 113-03-01): ``employee`` T0001 (人事處), ``own_hr`` T0005 (agency HR of
人事處), ``other_hr`` T0003 (made agency HR of 環境保護局 here), ``city_admin`` T0004 (made city admin here)
and ``unbound``, a chat user bound to nobody. The targets: T0002 (人事處), T0006 (環境保護局), T0999 (nobody),
the class DEMO-TM-01 (seats T0001 and T0003, T0002 waits) and NOPE-01 (no such class), a pending claim of
T0001 and claim 999 (none), an announcement sent by T0005 to 人事處.

Each cell is the answer that user gets: allowed (the target's data shows) or a refusal. Within one user
and one command, every refusal of an out-of-scope or an unknown target is the *same* sentence, naming
nothing of the target; refusals the code audits are ``admin_audit`` lines with ``allowed`` false.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Runtime
from bot.conversation import IncomingMessage
from bot.db.models.accounts import AdminAudit
from bot.db.models.certificates import CertificateClaim
from bot.db.models.classes import Enrollment
from bot.db.models.core import Employee
from bot.dispatcher import Outcome
from bot.services.certificates import MediaStore
from tests.certificates.conftest import use_certificates
from tests.certificates.test_claims import _claim, _grant
from tests.dialog import Press, Say, all_text, run_dialog

USERS = {"employee": "T0001", "own_hr": "T0005", "other_hr": "T0003", "city_admin": "T0004", "unbound": "X9999"}
OTHER_AGENCY = "桃園市政府環境保護局"
HR_AGENCY = "桃園市政府人事處"


@dataclass(frozen=True)
class Allowed:
    """The command does its work: every string of ``shows`` is in the answer."""

    shows: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    """A refusal: the sentence contains ``says``.

    Refusals of one user and command with the same ``group`` are identical (out of scope and unknown
    alike); ``audit`` is the action of the audit line written, if any.
    """

    says: str
    group: str = "scope"
    audit: str | None = None


BIND = Refused("綁定", group="bind")
"""What an unbound user gets for every HR command: the request to bind first, nothing of the target."""

NOT_HR_HOURS = Refused("限機關人事人員使用", group="role", audit="hours.view_other")
OUTSIDE_HOURS = Refused("或這位同仁不屬於您可查詢的機關", audit="hours.view_other")
SUB_NOT_HR = Refused("是機關人事人員的功能", group="role", audit="classes.substitute")
SUB_OUTSIDE = Refused("您只能為自己機關的同仁安排遞補", audit="classes.substitute")
CLAIM_NOT_FOUND = Refused("找不到這件申請，或不是您服務機關的申請")
CLAIM_DECIDE_REFUSED = Refused("找不到這件申請，或不是您服務機關的申請", audit="certificates.decide")
ANNOUNCE_NOT_HR = Refused("發布公告是人事人員的功能", group="role")

NAMES = {"T0002": "示範員工乙", "T0006": "示範臨時己", "T0003": "示範主管丙", "T0001": "示範員工甲"}


def hours_table() -> dict[str, dict[str, Allowed | Refused]]:
    """查時數 of a colleague: own agency, another agency, a number nobody has."""
    own, other, unknown = "查時數 T0002", "查時數 T0006", "查時數 T0999"
    return {
        "employee": {own: NOT_HR_HOURS, other: NOT_HR_HOURS, unknown: NOT_HR_HOURS},
        "own_hr": {own: Allowed((NAMES["T0002"],)), other: OUTSIDE_HOURS, unknown: OUTSIDE_HOURS},
        "other_hr": {own: OUTSIDE_HOURS, other: Allowed((NAMES["T0006"],)), unknown: OUTSIDE_HOURS},
        "city_admin": {own: Allowed((NAMES["T0002"],)), other: Allowed((NAMES["T0006"],)),
                       unknown: Refused("名冊上找不到員工編號 T0999", group="unknown")},
        "unbound": {own: BIND, other: BIND, unknown: BIND},
    }


def substitute_table() -> dict[str, dict[str, Allowed | Refused]]:
    """遞補: a seat of the officer's agency, a seat of another agency, an unknown person, an unknown class."""
    own = "遞補 DEMO-TM-01 T0001 T0002"
    other = "遞補 DEMO-TM-01 T0003 T0006"
    unknown_person = "遞補 DEMO-TM-01 T0999 T0002"
    unknown_class = "遞補 NOPE-01 T0003 T0006"
    mixed = "遞補 DEMO-TM-01 T0001 T0006"          # the substitute is of another agency
    confirm = Allowed(("遞補嗎", NAMES["T0001"], NAMES["T0002"]))
    return {
        "employee": dict.fromkeys((own, other, unknown_person, unknown_class, mixed), SUB_NOT_HR),
        "own_hr": {own: confirm, other: SUB_OUTSIDE, unknown_person: SUB_OUTSIDE, unknown_class: SUB_OUTSIDE,
                   mixed: SUB_OUTSIDE},
        "other_hr": {own: SUB_OUTSIDE, other: Allowed(("遞補嗎", NAMES["T0003"], NAMES["T0006"])),
                     unknown_person: SUB_OUTSIDE, unknown_class: SUB_OUTSIDE, mixed: SUB_OUTSIDE},
        "city_admin": {own: confirm, other: Allowed(("遞補嗎", NAMES["T0003"], NAMES["T0006"])),
                       unknown_person: Refused("找不到這個班期或同仁", group="unknown", audit="classes.substitute"),
                       unknown_class: Refused("找不到這個班期或同仁", group="unknown", audit="classes.substitute"),
                       mixed: Refused("同一機關", group="agency", audit="classes.substitute")},
        "unbound": dict.fromkeys((own, other, unknown_person, unknown_class, mixed), BIND),
    }


def menu_table(broadcast_shown: str) -> dict[str, dict[str, Allowed | Refused]]:
    """The HR menus: 發布公告 (audience buttons), 公告紀錄 (what the officer may see), 審核證書 (the queue)."""
    return {
        "employee": {"發布公告": ANNOUNCE_NOT_HR, "公告紀錄": ANNOUNCE_NOT_HR,
                     "審核證書": Refused("只有人事人員可以審核證書申請", group="role")},
        "own_hr": {"發布公告": Allowed(("本機關全體", "必修時數未完成")), "公告紀錄": Allowed((broadcast_shown,)),
                   "審核證書": Allowed(("待審核的證書申請（1 件", NAMES["T0001"]))},
        "other_hr": {"發布公告": Allowed(("本機關全體",)), "公告紀錄": Allowed(("還沒有發布過公告",)),
                     "審核證書": Allowed(("目前沒有待審核的證書申請",))},
        "city_admin": {"發布公告": Allowed(("全市同仁",)), "公告紀錄": Allowed((broadcast_shown,)),
                       "審核證書": Allowed(("待審核的證書申請（1 件", NAMES["T0001"]))},
        "unbound": {"發布公告": BIND, "公告紀錄": BIND, "審核證書": BIND},
    }


def claim_buttons_table(claim: int) -> dict[str, dict[str, Allowed | Refused]]:
    """Claim review buttons pressed directly (a forwarded or forged payload): the claim, and claim 999."""
    show, show_none = f"qv|{claim}", "qv|999"
    approve, approve_none = f"qay|{claim}", "qay|999"
    return {
        "employee": {show: CLAIM_NOT_FOUND, show_none: CLAIM_NOT_FOUND,
                     approve: CLAIM_DECIDE_REFUSED, approve_none: CLAIM_DECIDE_REFUSED},
        "own_hr": {show: Allowed((NAMES["T0001"], "核准")), show_none: CLAIM_NOT_FOUND,
                   approve_none: CLAIM_DECIDE_REFUSED},
        "other_hr": {show: CLAIM_NOT_FOUND, show_none: CLAIM_NOT_FOUND,
                     approve: CLAIM_DECIDE_REFUSED, approve_none: CLAIM_DECIDE_REFUSED},
        "city_admin": {show: Allowed((NAMES["T0001"], "核准")), show_none: CLAIM_NOT_FOUND,
                       approve_none: CLAIM_DECIDE_REFUSED},
        "unbound": {show: BIND, show_none: BIND, approve: BIND, approve_none: BIND},
    }


def sub_buttons_table(own: str, other: str, mixed: str, forged: str) -> dict[str, dict[str, Allowed | Refused]]:
    """The 遞補 confirmation pressed directly (forwarded or forged).

    A seat of 人事處 to T0002, a seat of 環境保護局 to T0006, T0001's seat to T0006 (another agency), an
    enrollment id that is nobody's.
    """
    everything = (own, other, mixed, forged)
    return {
        "employee": dict.fromkeys(everything, SUB_NOT_HR),
        "own_hr": {other: SUB_OUTSIDE, mixed: SUB_OUTSIDE, forged: SUB_OUTSIDE},
        "other_hr": {own: SUB_OUTSIDE, mixed: SUB_OUTSIDE, forged: SUB_OUTSIDE},
        "city_admin": {forged: Refused("這個班期或報名已經不存在", group="stale")},
        "unbound": dict.fromkeys(everything, BIND),
    }


async def audits(app: Runtime) -> list[tuple[str, bool]]:
    """Every audit line so far, oldest first."""
    async with app.sessions() as s:
        rows = (await s.execute(select(AdminAudit.action, AdminAudit.allowed).order_by(AdminAudit.id))).all()
    return [(a, bool(b)) for a, b in rows]


async def ask(app: Runtime, user: str, text: str) -> Outcome:
    """One message (a typed text, or ``kind|…`` pressed as a button's payload) from a fresh conversation."""
    channel = "line" if user == USERS["unbound"] else "console"
    if channel == "console":
        await run_dialog(app, user, [])  # binds the console user as `abc-bot chat --user` does
    if "|" in text and " " not in text:
        msg = IncomingMessage.from_payload(channel, f"U{'0' * 28}9999" if channel == "line" else user, text)
    else:
        msg = IncomingMessage.from_text(channel, f"U{'0' * 28}9999" if channel == "line" else user, text)
    return await app.dispatcher.handle(msg)


def command(text: str) -> str:
    """The command of a cell: the first word typed, or the kind of a pressed payload."""
    return text.split("|")[0] if "|" in text and " " not in text else text.split()[0]


LEAKS = ("示範主管丙", "示範臨時己", "示範約聘丁", "環境保護局", "青年事務局")


async def check_table(app: Runtime, table: dict[str, dict[str, Allowed | Refused]]) -> None:
    """Play every cell; check allowed answers, identical refusals per group, no leak, and the audit lines."""
    for role, cells in table.items():
        user = USERS[role]
        said: dict[tuple[str, str], set[str]] = {}
        for text, expected in cells.items():
            before = await audits(app)
            answer = all_text((await ask(app, user, text)).replies)
            written = (await audits(app))[len(before):]
            where = f"{role} ({user}) {text!r}:\n{answer}"
            if isinstance(expected, Allowed):
                assert all(s in answer for s in expected.shows), where
                assert ("hours.view_other", False) not in written, where
                continue
            assert expected.says in answer, where
            echoed = answer
            for typed in text.split()[1:]:          # a refusal may repeat what was typed: that tells nothing
                echoed = echoed.replace(typed, "<typed>")
            said.setdefault((command(text), expected.group), set()).add(echoed)
            if expected.group in ("scope", "bind", "role"):
                mine = {"own_hr": HR_AGENCY, "other_hr": OTHER_AGENCY}.get(role, "")
                seen = echoed.replace(mine, "<own agency>") if mine else echoed
                leaks = [w for w in (*LEAKS, HR_AGENCY, *NAMES.values()) if w in seen]
                assert not leaks, (where, leaks)
                assert not [a for a in written if a[1]], (where, written)   # a refusal is never audited allowed
            if expected.audit is not None:
                assert (expected.audit, False) in written, (where, written)
        for group, answers in said.items():
            assert len(answers) == 1, (role, group, answers)                # one and the same sentence


@pytest.fixture
async def hr_app(sqlite_app: Runtime, tmp_path: Path) -> Runtime:
    """The demo app with the five users' roles, a pending claim of T0001 and an announcement of T0005."""
    app = use_certificates(sqlite_app, store=MediaStore(tmp_path / "media"), signer=None, ocr=None)
    await _grant(app, "T0003", "agency_hr", OTHER_AGENCY)
    await _grant(app, "T0004", "city_admin")
    await run_dialog(app, "T0005", [Say("發布公告"), Press("本機關全體"), Say("本週五下午停電，請提早存檔"),
                                    Press("確認發布", shows=["已排入發送"])])
    return app


async def test_hours_of_a_colleague(hr_app: Runtime) -> None:
    await check_table(hr_app, hours_table())


async def test_substitute_typed(hr_app: Runtime) -> None:
    await check_table(hr_app, substitute_table())


async def test_hr_menus(hr_app: Runtime) -> None:
    await _claim(hr_app)
    await check_table(hr_app, menu_table(f"agency:{HR_AGENCY}"))


async def test_claim_review_buttons(hr_app: Runtime) -> None:
    claim = await _claim(hr_app)
    await check_table(hr_app, claim_buttons_table(claim))
    async with hr_app.sessions() as s:
        assert (await s.get(CertificateClaim, claim)).status == "pending"  # type: ignore[union-attr]
    # the officers who may decide it can: the table's "allowed" cell of the decision itself
    [answer] = [await ask(hr_app, USERS["own_hr"], f"qay|{claim}")]
    assert "核准" in all_text(answer.replies)
    async with hr_app.sessions() as s:
        assert (await s.get(CertificateClaim, claim)).status == "approved"  # type: ignore[union-attr]


async def test_substitute_confirmation_buttons(hr_app: Runtime) -> None:
    async with hr_app.sessions() as s:
        ids = dict((await s.execute(select(Employee.employee_no, Employee.id))).all())
        seats = dict((await s.execute(select(Enrollment.employee_id, Enrollment.id)
                                      .where(Enrollment.status == "enrolled"))).all())
        top = (await s.execute(select(func.max(Enrollment.id)))).scalar_one()
    own = f"sb|{seats[ids['T0001']]}|{ids['T0002']}"
    other = f"sb|{seats[ids['T0003']]}|{ids['T0006']}"
    mixed = f"sb|{seats[ids['T0001']]}|{ids['T0006']}"
    forged = f"sb|{top + 50}|{ids['T0002']}"
    await check_table(hr_app, sub_buttons_table(own, other, mixed, forged))
    async with hr_app.sessions() as s:                                   # no refusal moved a seat
        assert dict((await s.execute(select(Enrollment.employee_id, Enrollment.id)
                                     .where(Enrollment.status == "enrolled"))).all()) == seats


async def test_a_city_admin_announces_to_the_whole_city(hr_app: Runtime) -> None:
    # the 全市同仁 button was built with a negative payload number: 發布公告 by a city admin crashed
    await run_dialog(hr_app, "T0004", [
        Say("發布公告", intent="announce", buttons=["全市同仁"], hides=["系統暫時出了點問題"]),
        Press("全市同仁", intent="announce", shows=["請輸入公告內容"]),
        Say("全市防災演練將於週五舉行", intent="announce", shows=["發布前確認", "all"], buttons=["確認發布"]),
    ])
    forged = all_text((await ask(hr_app, USERS["own_hr"], "ae|0")).replies)   # agency HR pressing it
    assert "發布公告是人事人員的功能" in forged and "請輸入公告內容" not in forged
