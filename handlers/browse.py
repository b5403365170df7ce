"""Browsing the catalog: the three tracks → a track's categories → a category's classes and series."""

from __future__ import annotations

from bot.app import Ctx
from bot.conversation import Action, ActionKind, Choice, HandlerResult, IncomingMessage, Intent, Reply
from handlers.common import back_to_menu, item_card, main_menu

CARDS_PER_MESSAGE = 12


async def show_tracks(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """List the three ABC tracks as buttons."""
    catalog = ctx.app.catalog
    plan = catalog.spec.plan.title if ctx.lang == "zh-TW" else catalog.spec.plan.title_en
    choices = [
        Choice(ctx.t("browse.track_label", id=t.id, title=t.title if ctx.lang == "zh-TW" else t.title_en),
               Action(ActionKind.TRACK, (t.id,)))
        for t in catalog.tracks.values()
    ]
    return HandlerResult([Reply.plain(ctx.t("browse.tracks", plan=plan), [*choices, back_to_menu(ctx)])],
                         state=None)


async def show_track(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """Show a track's categories (or, for a track with one category, that category directly)."""
    track = ctx.app.catalog.tracks.get(arg)
    if track is None:
        return HandlerResult([Reply.plain(ctx.t("error.bad_button"), main_menu(ctx))], intent=Intent.UNKNOWN)
    if len(track.categories) == 1:
        return await show_category(ctx, msg, track.categories[0].id)
    zh = ctx.lang == "zh-TW"
    choices = [Choice(c.title if zh else c.title_en, Action(ActionKind.CATEGORY, (c.id,))) for c in track.categories]
    text = ctx.t("browse.track", id=track.id, title=track.title if zh else track.title_en,
                 description=track.description if zh else track.description_en)
    return HandlerResult([Reply.plain(text, [*choices, Choice(ctx.t("browse.back_to_track"),
                                                              Action(ActionKind.MENU))])], state=None)


def track_handler(track_id: str) -> object:
    """A free-text handler for "A" / "track b" … that shows that track."""

    async def handler(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
        return await show_track(ctx, msg, track_id)

    handler.__doc__ = f"Show track {track_id}."
    return handler


async def show_category(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """Show a category's classes and series as cards."""
    catalog = ctx.app.catalog
    category = catalog.categories.get(arg)
    if category is None:
        return HandlerResult([Reply.plain(ctx.t("error.bad_button"), main_menu(ctx))], intent=Intent.UNKNOWN)
    zh = ctx.lang == "zh-TW"
    items = catalog.category_items(category.id)
    track_id = catalog.category_track[category.id]
    text = ctx.t("browse.category", title=category.title if zh else category.title_en,
                 description=category.description if zh else category.description_en, count=len(items))
    back = Choice(ctx.t("browse.back_to_track"),
                  Action(ActionKind.TRACK, (track_id,)) if len(catalog.tracks[track_id].categories) > 1
                  else Action(ActionKind.MENU))
    cards = [item_card(ctx, item) for item in items[:CARDS_PER_MESSAGE]]
    return HandlerResult([Reply.card_list(text, cards, [back, back_to_menu(ctx)])], state=None)
