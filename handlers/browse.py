"""Browsing the catalog: the three tracks → a track's categories → a category's classes and series."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Ctx
from bot.conversation import Action, Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Handler, Route
from handlers.common import ShowTracks, answer, back_to_menu, item_card


@dataclass(frozen=True)
class ShowTrack(Action, kind="t"):
    """One track's categories."""

    track_id: str


@dataclass(frozen=True)
class ShowCategory(Action, kind="c"):
    """One category's classes and series."""

    category_id: str


CARDS_PER_MESSAGE = 12


async def show_tracks(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
    """List the three ABC tracks as buttons."""
    catalog = ctx.app.catalog
    plan = catalog.spec.plan.title if ctx.lang == "zh-TW" else catalog.spec.plan.title_en
    choices = [
        Choice(ctx.t("browse.track_label", id=t.id, title=t.title if ctx.lang == "zh-TW" else t.title_en),
               ShowTrack(t.id))
        for t in catalog.tracks.values()
    ]
    return HandlerResult([Reply.plain(ctx.t("browse.tracks", plan=plan), [*choices, back_to_menu(ctx)])],
                         state=None)


async def show_track(ctx: Ctx, msg: IncomingMessage, action: ShowTrack) -> HandlerResult:
    """Show a track's categories (or, for a track with one category, that category directly)."""
    track = ctx.app.catalog.tracks.get(action.track_id)
    if track is None:
        return answer(ctx, "error.bad_button", Intent.UNKNOWN)
    if len(track.categories) == 1:
        return await show_category(ctx, msg, ShowCategory(track.categories[0].id))
    zh = ctx.lang == "zh-TW"
    choices = [Choice(c.title if zh else c.title_en, ShowCategory(c.id)) for c in track.categories]
    text = ctx.t("browse.track", id=track.id, title=track.title if zh else track.title_en,
                 description=track.description if zh else track.description_en)
    return HandlerResult([Reply.plain(text, [*choices, Choice(ctx.t("browse.back_to_track"),
                                                              ShowTracks())])], state=None)


def track_handler(track_id: str) -> Handler:
    """A free-text handler for "A" / "track b" … that shows that track."""

    async def handler(ctx: Ctx, msg: IncomingMessage, _: object) -> HandlerResult:
        return await show_track(ctx, msg, ShowTrack(track_id))

    handler.__doc__ = f"Show track {track_id}."
    return handler


async def show_category(ctx: Ctx, msg: IncomingMessage, action: ShowCategory) -> HandlerResult:
    """Show a category's classes and series as cards."""
    catalog = ctx.app.catalog
    category = catalog.categories.get(action.category_id)
    if category is None:
        return answer(ctx, "error.bad_button", Intent.UNKNOWN)
    zh = ctx.lang == "zh-TW"
    items = catalog.category_items(category.id)
    track_id = catalog.category_track[category.id]
    text = ctx.t("browse.category", title=category.title if zh else category.title_en,
                 description=category.description if zh else category.description_en, count=len(items))
    back = Choice(ctx.t("browse.back_to_track"),
                  ShowTrack(track_id) if len(catalog.tracks[track_id].categories) > 1 else ShowTracks())
    cards = [item_card(ctx, item) for item in items[:CARDS_PER_MESSAGE]]
    return HandlerResult([Reply.card_list(text, cards, [back, back_to_menu(ctx)])], state=None)


TRACKS = Route(Intent.BROWSE, show_tracks, screen=True)

FEATURE = Feature(
    name="browse",
    actions={ShowTracks: TRACKS, ShowTrack: Route(Intent.BROWSE, show_track, screen=True),
             ShowCategory: Route(Intent.BROWSE, show_category, screen=True)},
    intents={"browse": TRACKS,
             **{f"track_{t.lower()}": Route(Intent.BROWSE, track_handler(t), screen=True) for t in "ABC"}},
    escapes=frozenset({"browse"}),
)
