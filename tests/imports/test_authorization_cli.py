"""Every HR and admin command of ``abc-bot`` × every kind of user, as one table (issue 15, part 10).

``bot.cli.main`` runs in this process on a SQLite file with the demo data (the ``cli`` fixture). The
commands that act for an HR officer take ``--by EMPLOYEE_NO``; each is tried ``--by`` each kind of user:
``employee`` T0001 (人事處, no role), ``own_hr`` T0005 (agency HR of 人事處), ``other_hr`` T0003 (made agency
HR of 環境保護局 here), ``city_admin`` T0004 (made city admin here), ``unbound`` T0999 (on no roster). The
targets: something of 人事處, something of 環境保護局, something that does not exist.

A cell is the exit code and the answer: allowed (exit 0 and what it shows) or a refusal (exit 1). Within
one user and one command, refusals of an out-of-scope and of an unknown target are the same sentence
(what was typed aside) and name nothing of the target; refusals the code audits are an ``admin_audit``
line with ``allowed`` 0. Cells that write run on a copy of the database put back afterwards, so every
cell starts from the same state.

The commands without ``--by`` are the operator's (a shell on the server is trusted, docs/cli.md): for
them the table says so, and checks that ``--by`` is not taken for a scope it would not apply.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot import bootstrap
from bot.clock import TAIPEI, FrozenClock
from bot.services.certificates import MediaStore
from tests.certificates.conftest import use_certificates
from tests.certificates.test_claims import _claim
from tests.conftest import Cli, _app, _load_app_once
from tests.imports.conftest import query

USERS = {"employee": "T0001", "own_hr": "T0005", "other_hr": "T0003", "city_admin": "T0004", "unbound": "T0999"}
HR_AGENCY, OTHER_AGENCY, NO_AGENCY = "桃園市政府人事處", "桃園市政府環境保護局", "桃園市政府不存在局"
LEAKS = ("示範主管丙", "示範臨時己", "示範員工甲", "示範員工乙", "環境保護局", "人事處")


@dataclass(frozen=True)
class Allowed:
    """Exit 0 and every string of ``shows`` in stdout."""

    shows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    """Exit 1 with ``says`` on stderr; one sentence per user, command and ``group``; ``audit``: the action audited."""

    says: str
    group: str = "scope"
    audit: str | None = None
    code: int = 1
    """The exit code: 1 refused, 2 for a SPEC that names nothing (an unknown agency, to a city admin)."""


UNREACHABLE = Refused("nobody in this audience can be reached", group="nobody")
"""Sending to 環境保護局, where nobody has a chat account: in scope, and refused for that reason."""

NOT_ON_ROSTER = Refused("is not on the roster", group="unbound")
"""``--by`` a number on no roster: the command says so and does nothing else."""


def cells(cmd: str, rows: dict[str, dict[str, Allowed | Refused]]) -> list[tuple[str, str, str, Allowed | Refused]]:
    """(command, user, argument line, expected) of one command's table."""
    return [(cmd, role, line, want) for role, targets in rows.items() for line, want in targets.items()]


def table(ids: dict[str, int]) -> list[tuple[str, str, str, Allowed | Refused]]:
    """The whole table; ``ids`` are the records, claims and announcements the demo database holds."""
    own_rec, other_rec, none_rec = (f"hours delete {n} --reason 重複匯入" for n in
                                    (ids["own_rec"], ids["other_rec"], 99999))
    delete_refused = Refused("that {by} may delete", audit="hours.delete")
    out: list[tuple[str, str, str, Allowed | Refused]] = []
    out += cells("hours delete", {
        "employee": dict.fromkeys((own_rec, other_rec, none_rec), delete_refused),
        "own_hr": {own_rec: Allowed(("deleted", "T0001")), other_rec: delete_refused, none_rec: delete_refused},
        "other_hr": {own_rec: delete_refused, other_rec: Allowed(("deleted", "T0003")), none_rec: delete_refused},
        "city_admin": {own_rec: Allowed(("deleted", "T0001")), other_rec: Allowed(("deleted", "T0003")),
                       none_rec: delete_refused},
        "unbound": dict.fromkeys((own_rec, other_rec, none_rec), NOT_ON_ROSTER)})

    own_sub, other_sub = "admin substitute DEMO-TM-01 T0001 T0002", "admin substitute DEMO-TM-01 T0003 T0006"
    none_sub, no_class = "admin substitute DEMO-TM-01 T0999 T0002", "admin substitute NOPE-01 T0003 T0006"
    sub_refused = Refused("您只能為自己機關的同仁安排遞補", audit="classes.substitute")
    sub_not_hr = Refused("是機關人事人員的功能", group="role", audit="classes.substitute")
    out += cells("admin substitute", {
        "employee": dict.fromkeys((own_sub, other_sub, none_sub, no_class), sub_not_hr),
        "own_hr": {own_sub: Allowed(("takes", "seat in DEMO-TM-01")), other_sub: sub_refused, none_sub: sub_refused,
                   no_class: sub_refused},
        "other_hr": {own_sub: sub_refused, other_sub: Allowed(("takes",)), none_sub: sub_refused,
                     no_class: sub_refused},
        "city_admin": {own_sub: Allowed(("takes",)), other_sub: Allowed(("takes",)),
                       none_sub: Refused("no such employee T0999", group="no_person"),
                       no_class: Refused("no such class NOPE-01", group="unknown")},
        # a --by on no roster has no role: the same sentence as an employee's
        "unbound": dict.fromkeys((own_sub, other_sub, none_sub, no_class), sub_not_hr)})

    for report, shows in (("report hours --out r.csv", ()), ("report unbound --json", ('"unbound"',)),
                          ("report compliance --json", ('"employees"',))):
        action = "report." + report.split()[1]
        own, other, none = (f"{report} --agency {HR_AGENCY}", f"{report} --agency {OTHER_AGENCY}",
                            f"{report} --agency {NO_AGENCY}")
        refused = Refused("may not see this report", audit=action)
        out += cells(report.split(" --")[0], {
            "employee": dict.fromkeys((report, own, other, none), refused),
            "own_hr": {report: Allowed(shows), own: Allowed(shows), other: refused, none: refused},
            "other_hr": {report: Allowed(shows), own: refused, other: Allowed(shows), none: refused},
            "city_admin": {report: Allowed(shows), own: Allowed(shows), other: Allowed(shows),
                           none: Refused("is on the roster (agencies:", group="unknown")},
            "unbound": dict.fromkeys((report, own, other, none), NOT_ON_ROSTER)})

    claim, other_claim = ids["claim"], ids["other_claim"]
    for verb, extra, done in (("approve", "", "approved"), ("reject", " --reason 照片模糊", "rejected")):
        own, other, none = (f"claims {verb} {claim}{extra}", f"claims {verb} {other_claim}{extra}",
                            f"claims {verb} 999{extra}")
        refused = Refused("does not exist or {by} is not HR of its agency", audit="certificates.decide")
        out += cells(f"claims {verb}", {
            "employee": dict.fromkeys((own, other, none), refused),
            "own_hr": {own: Allowed((done,)), other: refused, none: refused},
            "other_hr": {own: refused, other: Allowed((done,)), none: refused},
            "city_admin": {own: Allowed((done,)), other: Allowed((done,)), none: refused},
            "unbound": dict.fromkeys((own, other, none), NOT_ON_ROSTER)})

    for verb in ("preview", "send"):
        own, other, none = (f"broadcast {verb} --audience agency:{a} --text 週五停電演練" for a in
                            (HR_AGENCY, OTHER_AGENCY, NO_AGENCY))
        refused = Refused("refused", audit=f"broadcasts.{verb}")
        shows = ("people",) if verb == "preview" else ()
        out += cells(f"broadcast {verb}", {
            "employee": dict.fromkeys((own, other, none), refused),
            "own_hr": {own: Allowed(shows), other: refused, none: refused},
            "other_hr": {own: refused, other: Allowed(shows) if verb == "preview" else UNREACHABLE, none: refused},
            "city_admin": {own: Allowed(shows), other: Allowed(shows) if verb == "preview" else UNREACHABLE,
                           none: Refused("no one on the roster belongs to agency", group="unknown", code=2)},
            "unbound": dict.fromkeys((own, other, none), NOT_ON_ROSTER)})

    sent = ids["broadcast"]
    listing = "broadcast list --json"
    out += cells("broadcast list", {
        "employee": {listing: Allowed(("[]",))},
        "own_hr": {listing: Allowed((f'"id": {sent}',))},
        "other_hr": {listing: Allowed(("[]",))},
        "city_admin": {listing: Allowed((f'"id": {sent}',))},
        "unbound": {listing: NOT_ON_ROSTER}})
    for verb, shows in (("report", ('"totals"',)), ("cancel", ("cancelled",))):
        own, none = f"broadcast {verb} {sent}" + (" --json" if verb == "report" else ""), f"broadcast {verb} 999"
        refused = Refused("there is no announcement", audit="broadcasts.cancel" if verb == "cancel" else None)
        out += cells(f"broadcast {verb}", {
            "employee": {own: refused, none: refused},
            "own_hr": {own: Allowed(shows), none: refused},
            "other_hr": {own: refused, none: refused},
            "city_admin": {own: Allowed(shows), none: refused},
            "unbound": {own: NOT_ON_ROSTER, none: NOT_ON_ROSTER}})
    return out


OPERATOR_ONLY = [
    "import roster r.csv", "import hours h.csv", "import classes c.yaml", "import attendance a.csv",
    "import undo 1", "import history", "admin grant T0002 --role agency_hr", "admin revoke T0005 --role agency_hr",
    "admin roles", "admin codes --all --out codes.csv", "admin unbind T0002", "claims list", "claims show 1",
    "claims purge-photos", "report rewards --out rw.csv", "report survey DEMO-TM-01", "report class DEMO-TM-01",
    "hours T0002",
]
"""The HR commands without ``--by``: the operator's, on a trusted shell (docs/cli.md)."""


def snapshot(db: Path, to: Path) -> None:
    """Copy the SQLite database (``backup`` copies a consistent state, WAL included)."""
    with sqlite3.connect(db) as src, sqlite3.connect(to) as dst:
        src.backup(dst)


async def make_claims(url: str, media: Path) -> tuple[int, int]:
    """A pending claim of T0001 (人事處) and one of T0003 (環境保護局), on the CLI's database."""
    runtime = await _app(url, FrozenClock(datetime.now(UTC)))
    try:
        use_certificates(runtime, store=MediaStore(media), signer=None, ocr=None)
        dated = datetime.now(TAIPEI).date() - timedelta(days=10)
        return await _claim(runtime, "T0001", dated=dated), await _claim(runtime, "T0003", dated=dated)
    finally:
        await runtime.close()


@pytest.fixture
def hr_cli(cli: Cli, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Cli, dict[str, int]]:
    """The CLI with the five users' roles, two claims and a scheduled announcement of T0005.

    The data files are read once for all the commands (as the app fixtures do): the table runs ~150.
    """
    monkeypatch.setattr(bootstrap, "load_app", _load_app_once)
    assert cli(["admin", "grant", "T0003", "--role", "agency_hr", "--agency", OTHER_AGENCY]).returncode == 0
    assert cli(["admin", "grant", "T0004", "--role", "city_admin"]).returncode == 0
    claim, other_claim = asyncio.run(make_claims(f"sqlite:///{db}", tmp_path / "media"))
    at = datetime.combine(date.today() + timedelta(days=3), datetime.min.time().replace(hour=10)).isoformat()
    sent = cli(["broadcast", "send", "--audience", f"agency:{HR_AGENCY}", "--text", "下週三上午演練",
                "--at", at, "--by", "T0005"])
    assert sent.returncode == 0, sent.stderr
    records = {str(no): str(rec) for no, rec in query(
        db, "SELECT e.employee_no, max(r.id) FROM learning_records r JOIN employees e "
            "ON e.id = r.employee_id WHERE r.source IN ('portal', 'hr') GROUP BY e.employee_no")}
    [(broadcast,)] = query(db, "SELECT id FROM broadcasts")
    return cli, {"own_rec": int(records["T0001"]), "other_rec": int(records["T0003"]), "claim": claim,
                 "other_claim": other_claim, "broadcast": int(str(broadcast))}


def audits(db: Path) -> list[tuple[str, int]]:
    """Every audit line so far, oldest first."""
    return [(str(a), int(str(b))) for a, b in query(db, "SELECT action, allowed FROM admin_audit ORDER BY id")]


def test_every_hr_command_by_every_user(hr_cli: tuple[Cli, dict[str, int]], db: Path, tmp_path: Path) -> None:
    cli, ids = hr_cli
    clean = tmp_path / "clean.sqlite3"
    snapshot(db, clean)
    said: dict[tuple[str, str, str], set[str]] = {}
    for cmd, role, line, want in table(ids):
        by = USERS[role]
        args = [*line.split(), "--by", by]
        before = audits(db)
        result = cli(args)
        written = audits(db)[len(before):]
        where = f"{role}: abc-bot {' '.join(args)} → {result.returncode}\n{result.stdout}{result.stderr}"
        if isinstance(want, Allowed):
            assert result.returncode == 0, where
            assert all(s in result.stdout for s in want.shows), where
            snapshot(clean, db)                                     # the next cell starts from the same state
            continue
        assert result.returncode == want.code, where
        message = result.stderr or result.stdout          # admin substitute prints its refusal (docs/cli.md)
        assert want.says.format(by=by) in message, where
        assert not (result.stderr and result.stdout), where
        echoed = message.replace(by, "<by>")
        for typed in line.split()[2:]:                              # what was typed tells nothing
            echoed = re.sub(rf"(?<![0-9A-Za-z]){re.escape(typed)}(?![0-9A-Za-z])", "<typed>", echoed)
        said.setdefault((cmd, role, want.group), set()).add(echoed)
        if want.group == "scope":
            mine = {"own_hr": HR_AGENCY, "other_hr": OTHER_AGENCY}.get(role, "")
            seen = echoed.replace(mine, "<own agency>") if mine else echoed
            assert not [w for w in LEAKS if w in seen], where
            assert not [a for a in written if a[1]], (where, written)   # a refusal is never audited allowed
        if want.audit is not None:
            assert (want.audit, 0) in written, (where, written)
    for key, answers in said.items():
        assert len(answers) == 1, (key, answers)                     # one and the same sentence


def test_operator_commands_take_no_by(cli: Cli, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = audits(db)
    for line in OPERATOR_ONLY:
        for role, by in USERS.items():
            code: object
            try:
                result = cli([*line.split(), "--by", by])
                code, said = result.returncode, result.stderr   # `hours N`: --by belongs to `hours delete`
            except SystemExit as stopped:                       # argparse: "unrecognized arguments: --by …"
                code, said = stopped.code, capsys.readouterr().err
            assert code == 2 and "--by" in said, (line, role, code, said)
    assert audits(db) == before                                     # refused before anything ran
