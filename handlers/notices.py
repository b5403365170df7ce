"""Notices in the reader's language: the one registry of render functions, by notice kind.

Domain services say what happened as a :class:`~bot.services.notices.Notice` (a kind and JSON values)
and never write a sentence. Here each kind has its render function, ``(notice, reader) -> replies``
(:mod:`handlers.notice_reader`), which reads the message catalog in the recipient's language like any
handler. :func:`renderer` turns the registry into the ``(Notice, lang) -> list[Reply]`` function that
``bot.bootstrap`` injects into the :class:`~bot.services.notices.Notifier`; start-up refuses a declared
kind missing from :data:`RENDERERS`. A feature adds its kinds by merging its own table below.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.conversation import Reply
from bot.services.catalog import Catalog, RulesFile
from bot.services.notices import Notice, Renderer
from bot.texts import MessageCatalog
from handlers import broadcast_notices, certificate_notices, enroll_notices, reminder_notices
from handlers.notice_reader import NoticeReader, RenderFunction

RENDERERS: Mapping[str, RenderFunction] = MappingProxyType({
    **enroll_notices.RENDERERS,
    **certificate_notices.RENDERERS,
    **broadcast_notices.RENDERERS,
    **reminder_notices.RENDERERS,
})
"""Every notice kind the bot can write."""


def renderer(texts: MessageCatalog, catalog: Catalog, rules: RulesFile) -> Renderer:
    """The notifier's renderer: a notice in ``lang`` through its kind's render function."""
    def render(notice: Notice, lang: str) -> list[Reply]:
        return RENDERERS[notice.kind](notice, NoticeReader(lang, texts, catalog, rules))
    return render
