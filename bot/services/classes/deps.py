"""What the classes feature's services need besides a session: titles, texts, rules, settings, the notifier."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.catalog import Catalog, RulesFile
from bot.services.classes.format import Translate
from bot.services.classes.settings import EnrollmentSettings
from bot.services.notices import Notifier
from bot.texts import MessageCatalog


@dataclass(frozen=True)
class Deps:
    """What enrollment needs besides the session; built once at start-up (``bot.bootstrap.load_app``)."""

    catalog: Catalog
    texts: MessageCatalog
    """For the sentences of refusals (dates, titles, periods in the asker's language)."""
    rules: RulesFile
    settings: EnrollmentSettings
    notices: Notifier
    """Queues the feature's notices (:mod:`bot.services.classes.notices`), rendered by the handlers layer."""

    def t(self, lang: str) -> Translate:
        """A text lookup in ``lang``."""
        def translate(key: str, /, **values: object) -> str:
            return self.texts.get(key, lang, **values)
        return translate
