"""Pieces several handlers share: the main-menu buttons, the "link first" answer, how a catalog item is described."""

from __future__ import annotations

from bot.app import Ctx
from bot.conversation import Action, ActionKind, Card, Choice, HandlerResult, IncomingMessage, Reply
from bot.services.catalog import CatalogItem
from bot.services.classes import term_text


def main_menu(ctx: Ctx) -> list[Choice]:
    """The buttons of the main menu."""
    return [
        ctx.choice("menu.button.browse", Action(ActionKind.MENU)),
        ctx.choice("menu.button.hours", Action(ActionKind.HOURS)),
        ctx.choice("menu.button.enrollments", Action(ActionKind.MY_ENROLLMENTS)),
        ctx.choice("menu.button.certificate", Action(ActionKind.CERTIFICATE)),
        ctx.choice("menu.button.help", Action(ActionKind.HELP)),
        ctx.choice("menu.button.lang", Action(ActionKind.LANG, ("en" if ctx.lang == "zh-TW" else "zh-TW",))),
    ]


def back_to_menu(ctx: Ctx) -> Choice:
    """A single "main menu" button."""
    return ctx.choice("menu.button.menu", Action(ActionKind.HELP))


async def bind_first(ctx: Ctx, msg: IncomingMessage, feature: str) -> HandlerResult:
    """An unlinked user asked for something personal (``feature``): explain linking, offer its button."""
    text = ctx.t("pending.bind_first", feature=ctx.t(f"feature.{feature}"))
    return HandlerResult([Reply.plain(text, [Choice(ctx.t("bind.button.start"), Action(ActionKind.BIND)),
                                             back_to_menu(ctx)])])


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
                buttons=(ctx.choice("course.detail_button", Action(ActionKind.ITEM, (item.id,))),))
