"""Who a notice is written for: their language, with the texts, catalog and rules the app loaded.

The render functions of every feature (``handlers/*_notices.py``) take a :class:`NoticeReader`; the
registry (:mod:`handlers.notices`) builds one per language. Kept apart from the registry, which imports
the features, so no import goes in a circle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.conversation import Choice, Reply
from bot.services.catalog import Catalog, RulesFile
from bot.services.notices import Notice
from bot.texts import MessageCatalog


@dataclass(frozen=True)
class NoticeReader:
    """The recipient of a notice as a render function sees them."""

    lang: str
    texts: MessageCatalog
    catalog: Catalog
    rules: RulesFile

    def t(self, key: str, /, **values: object) -> str:
        """A text from the message catalog in the reader's language."""
        return self.texts.get(key, self.lang, **values)

    def choice(self, key: str, action: Any) -> Choice:
        """A button whose label comes from the message catalog."""
        return Choice(self.t(key), action)


RenderFunction = Callable[[Notice, NoticeReader], list[Reply]]
"""Writes one kind of notice for one reader."""
