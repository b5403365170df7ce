"""``abc-bot understand``: what the bot makes of a text, for developers (see docs/cli.md).

For each text: the intent the chat would answer with (the ``chat --json`` names), its score, the argument
and the runner-up. Needs no database: it loads the data files and the intent model only.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from bot.commands import CommandGroups
from bot.commands.common import EXIT_OK

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Settings
    from bot.intents import Understanding
    from bot.routing import RouteTable


def alternatives(routes: RouteTable, understood: Understanding, chosen: str) -> list[dict[str, Any]]:
    """The other candidates as ``{"intent", "score"}`` in the ``chat --json`` names, best first, each name once."""
    from bot.intents import SEARCH

    out: dict[str, float] = {}
    for c in understood.alternatives:
        route = routes.intents.get(c.name)
        name = route.intent.value if route is not None else ("search" if c.name == SEARCH else "unknown")
        if name != chosen and name not in out:
            out[name] = round(c.score, 3)
    return [{"intent": n, "score": s} for n, s in out.items()]


def describe(app: App, routes: RouteTable, text: str) -> dict[str, Any]:
    """The ``--json`` object of one text (plus ``rule`` and ``decision`` for the text output)."""
    from handlers.search import how_answered

    understood = app.intents.understand(text)
    intent, rule = how_answered(app, routes, understood)
    acts = understood.acts and understood.intent == rule
    score = understood.score if understood.intent is not None else 0.0
    return {"text": text, "intent": intent.value, "score": round(score, 3),
            "argument": understood.argument if acts else (understood.text.strip() if rule == "search" else ""),
            "alternatives": alternatives(routes, understood, intent.value),
            "rule": rule, "decision": understood.decision.value, "options": list(understood.options)}


async def cmd_understand(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the bot makes of each text (one JSON line per text with --json)."""
    from bot.bootstrap import load_app
    from handlers import build_routes

    app = load_app(settings)
    routes = build_routes()
    lang = args.lang or settings.default_lang
    for text in args.texts:
        d = describe(app, routes, text)
        if args.json:
            print(json.dumps({k: d[k] for k in ("text", "intent", "score", "argument", "alternatives")},
                             ensure_ascii=False))
            continue
        print(f"{text}")
        print(f"  intent: {d['intent']} (rule {d['rule']}, {d['decision']}), score {d['score']:.2f}")
        if d["options"]:
            labels = [app.texts.get(app.intents.label_key(o) or "clarify.option.smalltalk", lang) for o in d["options"]]
            print(f"  asks: {app.texts.get('clarify.question', lang, first=labels[0], second=labels[1])}")
        print(f"  argument: {d['argument'] or '—'}")
        alt = d["alternatives"][0] if d["alternatives"] else None
        print(f"  runner-up: {alt['intent']} {alt['score']:.2f}" if alt else "  runner-up: —")
    return EXIT_OK


def register(groups: CommandGroups) -> None:
    """Add ``understand``."""
    p = groups.top.add_parser("understand", help="what the bot makes of a text (intent, score, argument)")
    p.add_argument("--json", action="store_true", help="one JSON line per text")
    p.add_argument("--lang", choices=["zh-TW", "en"], help="language of the clarifying question shown")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.set_defaults(func=cmd_understand, log="WARNING")
