"""What a handler gets: the loaded app, the open transaction, the user and their state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Choice
from bot.texts import MessageCatalog

if TYPE_CHECKING:
    from bot.db.models import ChannelAccount, Employee

A = TypeVar("A")


@dataclass
class Context(Generic[A]):
    """One message's view of the world; valid only inside the dispatcher's transaction.

    ``app`` is whatever the composition root loaded at start-up (:class:`bot.app.App`); the kernel does
    not look inside it.
    """

    app: A
    texts: MessageCatalog
    session: AsyncSession
    account: ChannelAccount
    state: str | None
    data: dict[str, Any] = field(default_factory=dict)
    can_go_back: bool = False
    """There is a screen to go back to (:mod:`bot.navigation`)."""

    @property
    def lang(self) -> str:
        """The user's language (zh-TW or en)."""
        return self.account.lang

    @property
    def actor(self) -> str:
        """Who is asking, for the admin audit: the channel and the account id (``line:42``)."""
        return f"{self.account.channel}:{self.account.id}"

    @property
    def linked(self) -> Employee:
        """The bound employee, in a handler of a route marked ``needs_link`` (the dispatcher checked)."""
        employee = self.account.employee
        if employee is None:
            raise RuntimeError("a needs_link route was dispatched for an unlinked account")
        return employee

    @property
    def employee(self) -> Employee | None:
        """The bound employee, or None for an unbound chat user."""
        return self.account.employee

    def t(self, key: str, /, **values: object) -> str:
        """A text from the message catalog in the user's language."""
        return self.texts.get(key, self.lang, **values)

    def choice(self, key: str, action: Any) -> Choice:
        """A button whose label comes from the message catalog."""
        return Choice(self.t(key), action)
