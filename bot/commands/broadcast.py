"""HR announcements on the command line: ``abc-bot broadcast preview|send|list|cancel|report`` (docs/cli.md).

Exit codes: 0 done; 1 refused (outside the sender's agency, over the LINE quota without ``--force``,
nobody reachable, a time in quiet hours, not cancellable, no such announcement); 2 usage (a SPEC, text,
link or time that cannot be used: one sentence says why).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.commands import CommandGroups
from bot.commands.common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, cli_actor, employee_named, err, output_exists
from bot.services.common import write_table

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings
    from bot.db.models.core import Employee
    from bot.services.accounts import Scope
    from bot.services.broadcasts import Plan, PreparedImage


def _at(text: str | None) -> datetime | None:
    from bot.clock import TAIPEI

    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=TAIPEI)


async def _who(session: AsyncSession, by: str | None) -> tuple[Employee | None, Scope] | None:
    """The sender and their scope (the operator, with the whole city, when ``--by`` is not given)."""
    from bot.services.accounts import Scope, scope_of

    if by is None:
        return None, Scope(city=True)
    employee = await employee_named(session, by)
    if employee is None:
        return None
    return employee, await scope_of(session, employee)


IMAGE_FETCH_TIMEOUT = 20.0


async def _fetch_image(url: str, max_bytes: int) -> bytes:
    """Download HR's picture from an https:// address (at most ``max_bytes``; ComposeError when it fails)."""
    import aiohttp

    from bot.services.broadcasts import ComposeError

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=IMAGE_FETCH_TIMEOUT)) as http, \
                http.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise ComposeError(f"the image address answered HTTP {response.status}")
            data = await response.content.read(max_bytes + 1)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        if isinstance(exc, ComposeError):
            raise
        raise ComposeError(f"the image could not be fetched ({type(exc).__name__})") from None
    return data


async def _image(value: str | None, settings: Settings) -> tuple[PreparedImage, str, str] | None:
    """``--image PATH_OR_URL`` checked and re-encoded, with its future public links (stored once it is sent).

    Raises:
        ComposeError: a file or address LINE would not show, or no public address to serve it from.
    """
    from bot.services.broadcasts import ComposeError, ImageSigner, prepare_image
    from bot.services.broadcasts.media import MAX_BYTES

    if value is None:
        return None
    base = settings.public_base_url or ""
    if not settings.media_url_secret or not base.startswith("https://"):
        raise ComposeError("an image needs PUBLIC_BASE_URL (https://…) and MEDIA_URL_SECRET: LINE fetches it "
                           "from the bot's public address")
    if value.startswith(("https://", "http://")):
        if not value.startswith("https://"):
            raise ComposeError("the image address must start with https://")
        data = await _fetch_image(value, MAX_BYTES)
    else:
        try:
            data = await asyncio.to_thread(_read_head, Path(value), MAX_BYTES + 1)
        except OSError:
            raise ComposeError(f"the image {value} cannot be read") from None
    image = prepare_image(data)
    signer = ImageSigner(settings.media_url_secret.encode(), base)
    return image, signer.url(image.sha256, "full"), signer.url(image.sha256, "preview")


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _export(plan: Plan, path: Path) -> None:
    write_table([["employee_no", "name", "agency", "reason"],
                 *([m.employee_no, m.name, m.agency, reason] for m, reason in plan.unreachable)], path, "csv")


def _preview_json(plan: Plan) -> dict[str, Any]:
    c = plan.content
    return {"audience": plan.audience.spec, **plan.counts(), "over_quota": plan.over_quota,
            "sample": plan.sample(), "sample_en": plan.sample("en") if c.text_en else None,
            "link": {"url": c.link, "label": c.link_label} if c.link else None,
            "image": {"url": c.image_url, "preview_url": c.image_preview_url} if c.image_url else None}


def _print_preview(plan: Plan) -> None:
    c = plan.counts()
    channels = ", ".join(f"{k} {v}" for k, v in sorted(c["by_channel"].items())) or "none"
    print(f"audience {plan.audience.spec}: {c['members']} people, "
          f"{c['recipients']} chat accounts reachable ({channels})")
    for agency, n in c["by_agency"].items():
        print(f"  {agency or '-'}: {n}")
    if c["unreachable"]:
        print("not reachable: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(c["unreachable"].items())))
    quota = "unknown" if c["quota_remaining"] is None else str(c["quota_remaining"])
    print(f"LINE cost: {c['cost']} messages ({c['message_objects']} per recipient); left this month: {quota}"
          + ("; MORE THAN IS LEFT: send refuses without --force" if plan.over_quota else ""))
    print("personalised (pushed one by one)" if c["personalised"] else "same text for everyone (multicast)")
    content = plan.content
    if content.link:
        print(f"link button: {content.link_label or '查看詳情 / Details'} → {content.link}")
    if content.image_url:
        print(f"image: {content.image_url}")
    sample = plan.sample()
    if sample is not None:
        print("sample:\n  " + sample.replace("\n", "\n  "))


async def _plan(args: argparse.Namespace, settings: Settings, *, send: bool) -> int:
    from bot.bootstrap import broadcast_insights, running_app
    from bot.clock import taipei_today
    from bot.services.broadcasts import (
        AudienceError,
        ComposeError,
        Content,
        ImageStore,
        Refused,
        audit_refusal,
        make_plan,
        parse_audience,
    )
    from bot.services.broadcasts import send as send_broadcast
    from bot.services.notices.quiet import load_quiet_hours

    if args.export_unreachable and output_exists(Path(args.export_unreachable)):
        err(f"abc-bot: {args.export_unreachable} exists; name another file")
        return EXIT_REFUSED
    try:
        at = _at(getattr(args, "at", None))
    except ValueError:
        err(f"abc-bot: --at {args.at} is not a date and time like 2024-09-16T09:00")
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app, broadcast_insights(settings) as insights:
        now = app.clock.now()
        actor = cli_actor(args.by)
        async with app.sessions() as session:
            who = await _who(session, args.by)
            if who is None:
                return EXIT_REFUSED
            employee, scope = who
            try:
                audience = parse_audience(args.audience, app.rules)
                Content(args.text, args.text_en, args.link, args.link_label).check()  # before an image is fetched
                image = await _image(args.image, settings)
                content = Content(args.text, args.text_en, args.link, args.link_label,
                                  image[1] if image else None, image[2] if image else None)
                plan = await make_plan(session, audience, content, scope=scope, rules=app.rules,
                                       today=taipei_today(app.clock), insights=insights, optional=args.optional)
                if send:
                    sent = await send_broadcast(session, plan, actor=actor, notifier=app.app.deps.notices,
                                                actor_employee_id=employee.id if employee else None, now=now,
                                                quiet=load_quiet_hours(settings.data_dir), at=at, force=args.force)
                    if image is not None:  # queued: the picture must be there when LINE fetches it
                        ImageStore(settings.media_dir).put(image[0])
            except (AudienceError, ComposeError) as exc:
                err(f"abc-bot: {exc}")
                return EXIT_USAGE
            except Refused as exc:
                await session.rollback()
                await audit_refusal(session, actor=actor, actor_employee_id=employee.id if employee else None,
                                    action="broadcasts.send" if send else "broadcasts.preview", spec=args.audience,
                                    reason=str(exc), now=now)
                await session.commit()
                err(f"abc-bot: refused: {exc}")
                return EXIT_REFUSED
            await session.commit()
    if args.export_unreachable:
        _export(plan, Path(args.export_unreachable))
    if not send:
        if args.json:
            print(json.dumps(_preview_json(plan), ensure_ascii=False))
        else:
            _print_preview(plan)
        return EXIT_OK
    b = sent.broadcast
    if args.json:
        print(json.dumps({"id": b.id, "status": b.status, "send_at": b.send_at.isoformat(), "moved": sent.moved,
                          "chunks": sent.chunks, "rows": sent.rows, **_preview_json(plan)}, ensure_ascii=False))
    else:
        if sent.moved:
            err(f"now is inside quiet hours: announcement {b.id} waits until {b.send_at.isoformat(timespec='minutes')}")
        print(b.id)
    return EXIT_OK


async def cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
    """Who it reaches, what it costs, a sample; nothing is queued."""
    return await _plan(args, settings, send=False)


async def cmd_send(args: argparse.Namespace, settings: Settings) -> int:
    """Queue the announcement (now or ``--at``); prints its id."""
    return await _plan(args, settings, send=True)


def _row_json(b: Any) -> dict[str, Any]:
    return {"id": b.id, "status": b.status, "audience": b.audience, "created_by": b.created_by,
            "created_at": b.created_at.isoformat(), "send_at": b.send_at.isoformat(),
            "recipients": b.counts.get("recipients", 0), "cost": b.counts.get("cost", 0),
            "personalised": b.personalised}


async def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """The latest announcements, newest first."""
    from datetime import datetime

    from sqlalchemy import select

    from bot.bootstrap import running_app
    from bot.clock import TAIPEI
    from bot.db.models.core import Employee
    from bot.services.broadcasts import list_broadcasts

    async with running_app(settings, demo=False) as app, app.sessions() as session:
        who = await _who(session, args.by)
        if who is None:
            return EXIT_REFUSED
        found = await list_broadcasts(session, scope=who[1], rules=app.rules)
        ids = {b.actor_employee_id for b in found if b.actor_employee_id is not None}
        numbers = dict((await session.execute(select(Employee.id, Employee.employee_no)
                                              .where(Employee.id.in_(ids)))).tuples().all()) if ids else {}
        rows = [{**_row_json(b), "sender": numbers.get(b.actor_employee_id or 0)} for b in found]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("no announcements yet")
    for r in rows:
        at = datetime.fromisoformat(str(r["send_at"])).astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M+08:00")
        print(f"{r['id']:>5}  {at}  {r['status']:<10} {r['recipients']:>6} recipients  "
              f"{r['audience']}  by {r['sender'] or r['created_by']}")
    return EXIT_OK


async def cmd_cancel(args: argparse.Namespace, settings: Settings) -> int:
    """Cancel a scheduled announcement that has not started."""
    from bot.bootstrap import running_app
    from bot.services.broadcasts import Refused, audit_refusal, cancel

    async with running_app(settings, demo=False) as app, app.sessions() as session:
        who = await _who(session, args.by)
        if who is None:
            return EXIT_REFUSED
        employee, scope = who
        actor, now = cli_actor(args.by), app.clock.now()
        try:
            await cancel(session, args.id, scope=scope, rules=app.rules, actor=actor,
                         actor_employee_id=employee.id if employee else None, now=now)
        except Refused as exc:
            await session.rollback()
            await audit_refusal(session, actor=actor, actor_employee_id=employee.id if employee else None,
                                action="broadcasts.cancel", spec=f"broadcast {args.id}", reason=str(exc), now=now)
            await session.commit()
            err(f"abc-bot: refused: {exc}")
            return EXIT_REFUSED
        await session.commit()
    print(f"announcement {args.id} cancelled")
    return EXIT_OK


async def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Queued / sent / failed / skipped, per agency; opens and clicks where LINE gives them."""
    from bot.bootstrap import broadcast_insights, running_app
    from bot.clock import taipei_today
    from bot.commands.common import report_format
    from bot.services.broadcasts import Refused, build_report, get_broadcast

    fmt = None
    if args.out:
        fmt = report_format(args.format, Path(args.out))
        if fmt is None:
            return EXIT_USAGE
        if output_exists(Path(args.out)):
            err(f"abc-bot: {args.out} exists; name another file")
            return EXIT_REFUSED
    elif args.format:
        err("abc-bot: --format needs --out FILE")
        return EXIT_USAGE
    async with running_app(settings, demo=False) as app, broadcast_insights(settings) as insights, \
            app.sessions() as session:
        who = await _who(session, args.by)
        if who is None:
            return EXIT_REFUSED
        try:
            broadcast = await get_broadcast(session, args.id, scope=who[1], rules=app.rules)
        except Refused as exc:
            err(f"abc-bot: {exc}")
            return EXIT_REFUSED
        report = await build_report(session, broadcast, insights=insights, today=taipei_today(app.clock))
    if args.out:
        write_table(report.rows(), Path(args.out), fmt or "csv")
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return EXIT_OK
    data = report.to_json()
    t = data["totals"]
    print(f"announcement {broadcast.id} ({broadcast.status}, {broadcast.audience}): queued {t['queued']}, "
          f"sent {t['sent']}, failed {t['failed']}, skipped {t['skipped']}")
    for agency, c in data["by_agency"].items():
        print(f"  {agency or '-'}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    if data["failure_reasons"]:
        print("reasons: " + "; ".join(f"{k} {v}" for k, v in data["failure_reasons"].items()))
    if data["statistics"] is not None:
        print(f"opens {data['statistics']['opens']}, clicks {data['statistics']['clicks']}")
    return EXIT_OK


def _content_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--audience", required=True, metavar="SPEC",
                   help="who: e.g. agency:人事處,gap:mandatory (docs/cli.md)")
    p.add_argument("--text", required=True, metavar="TEXT", help="the zh-TW text; {name} {employee_no} {agency}")
    p.add_argument("--text-en", metavar="TEXT", help="the English text for people who chose English")
    p.add_argument("--link", metavar="URL", help="an https:// address opened by a button under the text")
    p.add_argument("--link-label", metavar="TEXT", help="the link button's label (≤ 20 characters; default 查看詳情)")
    p.add_argument("--image", metavar="PATH_OR_URL",
                   help="a JPEG or PNG (a file, or an https:// address) shown after the text; needs PUBLIC_BASE_URL")
    p.add_argument("--optional", action="store_true", help="people who turned optional announcements off skip it")
    p.add_argument("--export-unreachable", metavar="FILE", help="write the people it cannot reach (CSV)")
    p.add_argument("--json", action="store_true", help="one JSON object")


def register(groups: CommandGroups) -> None:
    """Add ``broadcast preview|send|list|cancel|report``."""
    sub = groups.top.add_parser("broadcast", help="HR announcements: preview the cost, send once, report") \
        .add_subparsers(dest="broadcast_command", required=True)
    p = sub.add_parser("preview", help="who an announcement reaches and what it costs; nothing is sent")
    _content_args(p)
    p.add_argument("--by", metavar="EMPLOYEE_NO", help="check the audience against this HR officer's scope")
    p.set_defaults(func=cmd_preview, log="WARNING")
    p = sub.add_parser("send", help="send an announcement now or --at a time; prints its id")
    _content_args(p)
    p.add_argument("--at", metavar="ISO_DATETIME", help="when (Asia/Taipei unless an offset is given)")
    p.add_argument("--by", required=True, metavar="EMPLOYEE_NO", help="the HR officer sending it")
    p.add_argument("--force", action="store_true", help="send even when it costs more than the LINE quota left")
    p.set_defaults(func=cmd_send, log="WARNING")
    p = sub.add_parser("list", help="the latest announcements")
    p.add_argument("--json", action="store_true", help="one JSON array")
    p.add_argument("--by", metavar="EMPLOYEE_NO", help="only what this HR officer may see")
    p.set_defaults(func=cmd_list, log="WARNING")
    p = sub.add_parser("cancel", help="cancel a scheduled announcement")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--by", required=True, metavar="EMPLOYEE_NO")
    p.set_defaults(func=cmd_cancel, log="WARNING")
    p = sub.add_parser("report", help="an announcement's delivery report")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--format", choices=("csv", "xlsx"), help="the file's format (default: from --out)")
    p.add_argument("--out", metavar="FILE", help="write the per-agency table to FILE")
    p.add_argument("--by", metavar="EMPLOYEE_NO", help="only if this HR officer may see it")
    p.set_defaults(func=cmd_report, log="WARNING")
