"""Pieces several handlers share: the main menu's buttons, the "link first" answer, how a catalog item is described.

The payloads declared here are the destinations of the main menu, which any screen may offer; each is
routed by the feature that answers it. Buttons that only one feature shows are declared in that feature.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, Card, Choice, HandlerResult, IncomingMessage, Intent, PayloadError, Reply
from bot.services.catalog import CatalogItem
from bot.services.classes import term_text


@dataclass(frozen=True)
class ShowTracks(Action, kind="m"):
    """The three ABC tracks (routed by handlers.browse)."""


@dataclass(frozen=True)
class ShowHelp(Action, kind="h"):
    """Greeting, help and the main menu (handlers.menu)."""


@dataclass(frozen=True)
class SetLang(Action, kind="l"):
    """Switch the chat's language (handlers.menu)."""

    lang: str


@dataclass(frozen=True)
class ShowHours(Action, kind="hr"):
    """The user's learning hours (handlers.hours)."""


@dataclass(frozen=True)
class MyEnrollments(Action, kind="me"):
    """The user's enrollments (handlers.my_enrollments)."""


@dataclass(frozen=True)
class Certificate(Action, kind="ce"):
    """Certificate rewards: how to claim, my claims, HR's queue (handlers.certificate)."""


@dataclass(frozen=True)
class StartBind(Action, kind="b"):
    """Link the chat account to an employee (handlers.account)."""


@dataclass(frozen=True)
class BindThen(Action, kind="nb"):
    """Link the account, then answer the button pressed before (``then``: its packed form, ``|`` as ``~``)."""

    then: str


def unpack_then(then: str) -> Action | None:
    """The button a :class:`BindThen` carries, or None (none, or no longer a valid payload)."""
    if not then:
        return None
    try:
        return Action.unpack(then.replace("~", "|"))
    except PayloadError:
        return None


@dataclass(frozen=True)
class ShowItem(Action, kind="i"):
    """A catalog item's details (handlers.course)."""

    item_id: str


def main_menu(ctx: Ctx) -> list[Choice]:
    """The buttons of the main menu."""
    return [
        ctx.choice("menu.button.browse", ShowTracks()),
        ctx.choice("menu.button.hours", ShowHours()),
        ctx.choice("menu.button.enrollments", MyEnrollments()),
        ctx.choice("menu.button.certificate", Certificate()),
        ctx.choice("menu.button.help", ShowHelp()),
        ctx.choice("menu.button.lang", SetLang("en" if ctx.lang == "zh-TW" else "zh-TW")),
    ]


def echo(ctx: Ctx, text: str) -> str:
    """Typed text as it may be shown back: a long message only by its start ("我想問一下…"), never whole."""
    at_most = ctx.app.search.reader.echo_at_most
    text = " ".join(text.split())
    return text if len(text) <= at_most else ctx.t("echo.shortened", start=text[:at_most].rstrip())


def back_to_menu(ctx: Ctx) -> Choice:
    """A single "main menu" button."""
    return ctx.choice("menu.button.menu", ShowHelp())


def answer(ctx: Ctx, key: str, intent: Intent | None = None, **values: object) -> HandlerResult:
    """One text from the catalog with the main menu under it (the most common answer)."""
    return HandlerResult([Reply.plain(ctx.t(key, **values), main_menu(ctx))], intent=intent)


def bind_button(ctx: Ctx, msg: IncomingMessage | None = None) -> Choice:
    """The "link account" button; pressed after another button, linking goes on to answer that one."""
    action: Action = StartBind()
    if msg is not None and msg.action is not None and "~" not in msg.action.pack():
        try:
            action = BindThen(msg.action.pack().replace("|", "~"))
        except PayloadError:  # too long to carry: link, then the user presses it again
            action = StartBind()
    return Choice(ctx.t("bind.button.start"), action)


async def bind_first(ctx: Ctx, msg: IncomingMessage, feature: str) -> HandlerResult:
    """An unlinked user asked for something personal (``feature``): explain linking, offer its button."""
    text = ctx.t("pending.bind_first", feature=ctx.t(f"feature.{feature}"))
    return HandlerResult([Reply.plain(text, [bind_button(ctx, msg), back_to_menu(ctx)])])


def item_path(ctx: Ctx, item: CatalogItem) -> str:
    """Where an item sits: "打磨必備職能．領導管理訓練"."""
    catalog = ctx.app.catalog
    track = catalog.tracks[item.track_id]
    category = catalog.categories[item.category_id]
    if ctx.lang == "zh-TW":
        return ctx.t("course.path", track=f"{track.id} {track.title}", category=category.title)
    return ctx.t("course.path", track=f"{track.id} {track.title_en}", category=category.title_en)


def audience_text(ctx: Ctx, item: CatalogItem) -> str:
    """The audience line of an item."""
    sep = "、" if ctx.lang == "zh-TW" else ", "
    audience = (sep.join(term_text("course.audience_value", a, ctx.t) for a in item.audience) if item.audience
                else ctx.t("course.audience_all"))
    return ctx.t("course.audience", audience=audience)


def item_card(ctx: Ctx, item: CatalogItem, note: str = "") -> Card:
    """A card for a list of items: title, kind and place, a short description, a details button."""
    kind = ctx.t(f"course.kind.{item.kind}")
    subtitle = f"{kind}｜{item_path(ctx, item)}" if ctx.lang == "zh-TW" else f"{kind} | {item_path(ctx, item)}"
    body = item.localized_description(ctx.lang)
    if note:
        body = f"{note}\n{body}" if body else note
    return Card(title=item.localized_title(ctx.lang), subtitle=subtitle, body=body,
                buttons=(ctx.choice("course.detail_button", ShowItem(item.id)),))
