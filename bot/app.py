"""What is loaded once at start-up, as one frozen object: settings, clock, plan data, texts, indexes.

Handlers read it as ``ctx.app``; services never see it (they take the pieces they need as arguments).
It is built by :func:`bot.bootstrap.load_app`, which loads and validates every data file exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeAlias

from bot.clock import Clock
from bot.config import Settings
from bot.context import Context
from bot.intents import IntentRecognizer
from bot.services.accounts import BindingPolicy
from bot.services.broadcasts import Insights
from bot.services.catalog import Catalog, RulesFile, SearchEngine
from bot.services.certificates import CertDeps
from bot.services.classes import Deps, EnrollmentSettings
from bot.services.reminders import Reminders
from bot.texts import MessageCatalog


@dataclass(frozen=True)
class App:
    """Everything loaded at start-up; immutable for the life of the process."""

    settings: Settings
    clock: Clock
    catalog: Catalog
    rules: RulesFile
    texts: MessageCatalog
    intents: IntentRecognizer
    search: SearchEngine
    enrollment: EnrollmentSettings
    """The plan year's ``enrollment.yaml``: delivery modes and the fairness cap."""
    binding: BindingPolicy
    """``data/accounts.yaml``: code length, attempt limits, the linking flow's time-out."""
    deps: Deps
    """What the classes feature's services need besides a session (catalog, texts, rules, settings, notices)."""
    certificates: CertDeps
    """The certificate feature's tests, photo folder, link signer and notifier (``certificates.yaml``)."""
    reminders: Reminders | None = None
    """The reminder sources and their sweep (``reminders.yaml``, the quiet hours of ``notices.yaml``)."""
    insights: Callable[[], AbstractAsyncContextManager[Insights | None]] | None = None
    """Opens LINE's quota and statistics for announcements in chat, as the CLI has them (yields None, or is
    None, without LINE credentials)."""


Ctx: TypeAlias = Context[App]
"""The context every handler receives."""
