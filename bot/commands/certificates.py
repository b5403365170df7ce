"""Commands of the certificate feature (docs/cli.md, "Certificate claims"): ``claims …`` and ``report rewards``.

``claims list|show|approve|reject|purge-photos``.

Exit codes: 0 done; 1 refused (an unknown claim, one the ``--by`` officer may not decide, one already decided,
an unknown agency or employee, an output file that cannot be written); 2 usage.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.commands import CommandGroups
from bot.commands.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, agency_known, cli_actor, employee_named, err

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db.models.certificates import CertificateClaim
    from bot.db.models.core import Employee
    from bot.services.certificates import CertDeps, Outcome


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def claim_json(row: CertificateClaim, claimant: Employee, deps: CertDeps, *, check: Outcome | None = None,
               decided_by: str | None = None) -> dict[str, Any]:
    """A claim as ``--json`` prints it (the contract of docs/cli.md)."""
    test = next((t for t in deps.settings.tests if t.id == row.test_id), None)
    path = None if row.photo_deleted_at else str(deps.store.path_of(row.photo_sha256))
    out: dict[str, Any] = {
        "id": row.id, "status": row.status, "employee_no": claimant.employee_no, "name": claimant.name,
        "agency": row.agency, "scheme": row.scheme, "test": row.test_id, "test_title": test.title if test else None,
        "level": row.level_label, "scores": row.scores, "grade": row.grade, "reward": row.reward,
        "dated": _iso(row.dated), "window_end": _iso(row.window_end), "submitted_at": _iso(row.submitted_at),
        "decided_at": _iso(row.decided_at), "decided_by": decided_by, "reject_reason": row.reject_reason,
        "photo": {"sha256": row.photo_sha256, "size": row.photo_size, "type": row.photo_type,
                  "source_type": row.source_type, "path": path, "deleted_at": _iso(row.photo_deleted_at)},
    }
    if check is not None:
        out["check"] = {"key": check.key, "reward": check.tier.reward if check.tier else None}
    return out


def _line(row: CertificateClaim, claimant: Employee) -> str:
    level = row.level_label or row.scores or "-"
    return (f"#{row.id}\t{row.status}\t{row.agency}\t{claimant.employee_no} {claimant.name}\t{row.test_id} {level}"
            f"\t{_iso(row.dated) or '-'}\t{row.reward or '-'}")


async def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Submitted claims, oldest first, optionally of one agency and one status."""
    from bot.bootstrap import running_app
    from bot.services.certificates import list_claims

    async with running_app(settings, demo=False) as app, app.sessions() as session:
        if args.agency is not None and not await agency_known(session, args.agency):
            return EXIT_REFUSED
        rows = await list_claims(session, agency=args.agency, status=args.status)
        if args.json:
            print(json.dumps({"count": len(rows), "claims": [claim_json(r, e, app.app.certificates)
                                                               for r, e in rows]}, ensure_ascii=False))
        else:
            for r, e in rows:
                print(_line(r, e))
            print(f"{len(rows)} claim(s)")
    return EXIT_OK


async def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """One claim with its rule check and where its photo file is."""
    from bot.bootstrap import running_app
    from bot.services.accounts import employee_by_id
    from bot.services.certificates import claim_with_claimant, recheck

    async with running_app(settings, demo=False) as app, app.sessions() as session:
        found = await claim_with_claimant(session, args.id)
        if found is None:
            err(f"abc-bot: no submitted claim {args.id}")
            return EXIT_REFUSED
        row, claimant = found
        deps = app.app.certificates
        check = await recheck(session, deps, row, claimant, app.clock.now())
        by = await employee_by_id(session, row.decided_by_id) if row.decided_by_id else None
        data = claim_json(row, claimant, deps, check=check, decided_by=by.employee_no if by else None)
        if args.json:
            print(json.dumps(data, ensure_ascii=False))
        else:
            print(_line(row, claimant))
            print(f"check: {check.key}" + (f" ({check.tier.reward})" if check.tier else ""))
            if row.reject_reason:
                print(f"reason: {row.reject_reason}")
            print(f"photo: {data['photo']['path'] or 'deleted ' + str(data['photo']['deleted_at'])}")
    return EXIT_OK


async def _decide(args: argparse.Namespace, settings: Settings, *, approve: bool) -> int:
    from bot.bootstrap import running_app
    from bot.services.certificates import decide_claim

    reason = " ".join((args.reason or "").split())[:200] if not approve else None
    if not approve and not reason:
        err("abc-bot: --reason must not be empty")
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app, app.sessions.begin() as session:
        reviewer = await employee_named(session, args.by)
        if reviewer is None:
            return EXIT_REFUSED
        result = await decide_claim(session, app.app.certificates, args.id, reviewer, approve=approve,
                                    reason=reason, actor=cli_actor(args.by), now=app.clock.now())
        if result.status == "not_found":
            err(f"abc-bot: claim {args.id} does not exist or {args.by} is not HR of its agency")
            return EXIT_REFUSED
        if result.status == "already_decided":
            assert result.claim is not None
            err(f"abc-bot: claim {args.id} was already decided ({result.claim.status})")
            return EXIT_REFUSED
        told = "the claimant is told" if result.told else "the claimant has no chat account: tell them another way"
        print(f"claim {args.id} {'approved' if approve else 'rejected'} by {args.by}; {told}")
    return EXIT_OK


async def cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    """Approve a pending claim as the HR officer ``--by`` (final, audited, the claimant told)."""
    return await _decide(args, settings, approve=True)


async def cmd_reject(args: argparse.Namespace, settings: Settings) -> int:
    """Reject a pending claim with a reason as the HR officer ``--by`` (final, audited, the claimant told)."""
    return await _decide(args, settings, approve=False)


async def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Delete the photo files of claims decided more than ``MEDIA_RETENTION_DAYS`` ago (the claims stay)."""
    from bot.bootstrap import running_app
    from bot.services.certificates import purge_photos

    async with running_app(settings, demo=False) as app, app.sessions.begin() as session:
        deps = app.app.certificates
        gone = await purge_photos(session, deps.store, days=deps.retention_days, now=app.clock.now())
    print(f"{gone} photo file(s) deleted (kept {settings.media_retention_days} days after the decision)")
    return EXIT_OK


async def cmd_report_rewards(args: argparse.Namespace, settings: Settings) -> int:
    """Approved claims as CSV or xlsx: the list HR needs for the reward paperwork."""
    from bot.bootstrap import running_app
    from bot.commands.common import report_format
    from bot.services.certificates import rewards_report, write_rewards

    fmt = report_format(args.format, args.out)
    if fmt is None:
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app:
        async with app.sessions() as session:
            if args.agency is not None and not await agency_known(session, args.agency):
                return EXIT_REFUSED
            rows = await rewards_report(session, agency=args.agency)
        try:
            write_rewards(rows, app.app.certificates.settings, args.out, fmt)
        except OSError as exc:
            err(f"abc-bot: cannot write {exc.filename or args.out}: {exc.strerror or exc}")
            return EXIT_REFUSED
    print(f"{len(rows)} approved claim(s) written to {args.out}")
    return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
    claims = groups.top.add_parser("claims", help="certificate reward claims (HR)").add_subparsers(
        dest="claims_command", required=True)
    p = claims.add_parser("list", help="submitted claims, oldest first")
    p.add_argument("--agency", help="only this agency")
    p.add_argument("--status", choices=["pending", "approved", "rejected"])
    p.add_argument("--json", action="store_true", help="one JSON object (docs/cli.md)")
    p.set_defaults(func=cmd_list, log="WARNING")
    p = claims.add_parser("show", help="one claim, its rule check and its photo file")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--json", action="store_true", help="one JSON object (docs/cli.md)")
    p.set_defaults(func=cmd_show, log="WARNING")
    p = claims.add_parser("approve", help="approve a pending claim (final; the claimant is told)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--by", required=True, metavar="EMPLOYEE_NO", help="the HR officer deciding (their role decides)")
    p.set_defaults(func=cmd_approve, log="WARNING")
    p = claims.add_parser("reject", help="reject a pending claim with a reason (final; the claimant is told)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--by", required=True, metavar="EMPLOYEE_NO", help="the HR officer deciding (their role decides)")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why (the claimant reads it)")
    p.set_defaults(func=cmd_reject, log="WARNING")
    p = claims.add_parser("purge-photos", help="delete photo files MEDIA_RETENTION_DAYS after the decision")
    p.set_defaults(func=cmd_purge, log="WARNING")
    p = groups.report.add_parser("rewards", help="approved certificate claims for the reward paperwork")
    p.add_argument("--agency", help="only this agency")
    p.add_argument("--format", choices=["csv", "xlsx"], help="default: from --out's suffix, else csv")
    p.add_argument("--out", type=Path, required=True, metavar="FILE")
    p.set_defaults(func=cmd_report_rewards, log="WARNING")
