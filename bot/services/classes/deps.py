"""What the classes feature's services need besides a session: titles, texts, the plan's rules and settings."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.catalog import Catalog, RulesFile
from bot.services.classes.files import EnrollmentSettings
from bot.services.classes.format import Translate
from bot.texts import MessageCatalog


@dataclass(frozen=True)
class Deps:
    """What enrollment needs besides the session: titles, texts, the plan's rules and settings."""

    catalog: Catalog
    texts: MessageCatalog
    rules: RulesFile
    settings: EnrollmentSettings

    def t(self, lang: str) -> Translate:
        """A text lookup in ``lang``."""
        def translate(key: str, /, **values: object) -> str:
            return self.texts.get(key, lang, **values)
        return translate
