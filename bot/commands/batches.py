"""Import batches on the command line: ``abc-bot import history`` and ``abc-bot import undo BATCH_ID``.

Every import that changes something (roster, hours, classes, attendance) and every deleted hours record
is one batch (docs/cli.md, "Import batches"). Exit codes: 0 done, 1 refused (no such batch, already
undone, a later batch or a later change in the way: the reason is printed), 2 usage.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from bot.commands import CommandGroups
from bot.commands.common import EXIT_OK, EXIT_REFUSED, cli_actor, err

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db.models.imports import ImportBatch


def batch_json(batch: ImportBatch) -> dict[str, Any]:
    """One batch as ``import history --json`` shows it."""
    return {"id": batch.id, "kind": batch.kind, "file": batch.file, "digest": batch.digest, "label": batch.label,
            "by": batch.actor, "at": batch.at.isoformat(), "status": batch.status, "counts": batch.counts,
            "changes": batch.changes, "note": batch.note,
            "undone_at": batch.undone_at.isoformat() if batch.undone_at else None, "undone_by": batch.undone_by}


async def cmd_import_history(args: argparse.Namespace, settings: Settings) -> int:
    """List the latest import batches, newest first."""
    from bot.bootstrap import running_app
    from bot.clock import TAIPEI
    from bot.services.common import list_batches

    async with running_app(settings, demo=False) as app, app.sessions() as session:
        batches = await list_batches(session, limit=args.limit)
        items = [batch_json(b) for b in batches]
    if args.json:
        print(json.dumps(items, ensure_ascii=False))
        return EXIT_OK
    if not batches:
        print("no import batches yet")
    for b in batches:
        counts = ", ".join(f"{k} {v}" for k, v in b.counts.items())
        status = b.status if b.undone_at is None else f"undone {b.undone_at.astimezone(TAIPEI):%Y-%m-%d %H:%M}"
        print(f"{b.id:>5}  {b.at.astimezone(TAIPEI):%Y-%m-%d %H:%M}  {b.kind:<12} {status:<22} {b.file or b.note}"
              f"  [{counts}; {b.changes} row(s)]  {b.actor}")
    return EXIT_OK


async def cmd_import_undo(args: argparse.Namespace, settings: Settings) -> int:
    """Undo one batch exactly, or say why not; audited either way."""
    from bot.bootstrap import running_app
    from bot.services.accounts import record
    from bot.services.common import undo_batch

    async with running_app(settings, demo=False) as app:
        actor, now = cli_actor(), app.clock.now()
        async with app.sessions() as session:
            result = await undo_batch(session, args.batch_id, now=now, actor=actor, dry_run=args.dry_run)
            if not args.dry_run:
                if not result.ok:
                    await session.rollback()
                await record(session, actor=actor, actor_employee_id=None, action="import.undo",
                             target=f"batch {args.batch_id}", allowed=result.ok, now=now,
                             detail=result.summary() if result.ok else result.reason)
                await session.commit()
    if args.json:
        print(json.dumps({"batch": result.batch_id, "kind": result.kind or None, "file": result.file or None,
                          "undone": result.ok and not args.dry_run, "dry_run": args.dry_run,
                          "reason": result.reason or None, "blocked_by": result.blocked_by,
                          "restored": result.restored, "removed": result.removed, "reinserted": result.reinserted,
                          "notices_withdrawn": result.notices_withdrawn,
                          "notices_delivered": result.notices_delivered}, ensure_ascii=False))
        return EXIT_OK if result.ok else EXIT_REFUSED
    if not result.ok:
        err(f"abc-bot: batch {args.batch_id} not undone: {result.reason}")
        return EXIT_REFUSED
    what = f"batch {result.batch_id} ({result.kind}{', ' + result.file if result.file else ''})"
    if args.dry_run:
        print(f"dry run, nothing was changed: undoing {what} would leave {result.summary()}")
    else:
        print(f"{what} undone: {result.summary()}")
    return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add ``import history`` and ``import undo``."""
    p = groups.imports.add_parser("history", help="the latest import batches (what each import changed)")
    p.add_argument("--json", action="store_true", help="one JSON array")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="how many batches (default 50)")
    p.set_defaults(func=cmd_import_history, log="WARNING")

    p = groups.imports.add_parser("undo", help="undo one import batch exactly (refused when later changes need it)")
    p.add_argument("batch_id", type=int, metavar="BATCH_ID", help="the batch (see import history)")
    p.add_argument("--dry-run", action="store_true", help="check and say what would be undone; change nothing")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=cmd_import_undo, log="WARNING")
