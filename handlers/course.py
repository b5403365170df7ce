"""Course detail: what a class, series or course is, for whom, and what to do next."""

from __future__ import annotations

from bot.app import Ctx
from bot.conversation import Choice, HandlerResult, IncomingMessage, Intent, Reply
from bot.routing import Feature, Route
from bot.services.catalog import CatalogItem
from handlers.browse import ShowCategory
from handlers.common import ShowItem, answer, audience_text, back_to_menu, item_path
from handlers.enroll import CourseClasses
from handlers.search import search_text


def detail_reply(ctx: Ctx, item: CatalogItem) -> Reply:
    """The detail text of an item with its next-step buttons."""
    catalog = ctx.app.catalog
    zh = ctx.lang == "zh-TW"
    lines = [f"【{item.localized_title(ctx.lang)}】" if zh else item.localized_title(ctx.lang),
             f"{ctx.t(f'course.kind.{item.kind}')}｜{item_path(ctx, item)}" if zh
             else f"{ctx.t(f'course.kind.{item.kind}')} | {item_path(ctx, item)}"]
    if not zh:
        lines.append(item.title)
    description = item.localized_description(ctx.lang)
    if description:
        lines.append(description)
    lines.append(audience_text(ctx, item))
    if item.topics:
        sep = "、" if zh else "; "
        lines.append(ctx.t("course.topics", topics=sep.join(t.title if zh else t.title_en for t in item.topics)))
    if item.series_id:
        lines.append(ctx.t("course.in_series", series=catalog.items[item.series_id].localized_title(ctx.lang)))
    lines.append(ctx.t("course.bucket", bucket=ctx.t(f"bucket.{item.bucket}")))
    choices: list[Choice] = []
    if item.course_ids:
        lines.append(ctx.t("course.series_courses", count=len(item.course_ids)))
        for i, cid in enumerate(item.course_ids, start=1):
            lines.append(f"{i}. {catalog.items[cid].localized_title(ctx.lang)}")
        choices.extend(Choice(catalog.items[cid].localized_title(ctx.lang), ShowItem(cid))
                       for cid in item.course_ids)
    else:
        lines.append(ctx.t("course.classes_hint"))
        choices.append(ctx.choice("course.button.classes", CourseClasses(item.id)))
    if item.series_id:
        choices.append(ctx.choice("course.button.series", ShowItem(item.series_id)))
    choices.append(Choice(ctx.t("browse.back_to_track"), ShowCategory(item.category_id)))
    choices.append(back_to_menu(ctx))
    return Reply.plain("\n".join(lines), choices)


async def show_item(ctx: Ctx, msg: IncomingMessage, action: ShowItem) -> HandlerResult:
    """Show one catalog item by id (a button); an unknown id is a stale button."""
    item = ctx.app.catalog.get(action.item_id)
    if item is None:
        return answer(ctx, "course.not_found", Intent.UNKNOWN)
    return HandlerResult([detail_reply(ctx, item)])


async def course_by_text(ctx: Ctx, msg: IncomingMessage, arg: str) -> HandlerResult:
    """"介紹 python": show the best match's detail, or search results when nothing fits."""
    if not arg.strip():
        return answer(ctx, "search.empty", Intent.UNKNOWN)
    hits = ctx.app.search.search(arg, limit=2)
    if hits and (len(hits) == 1 or hits[0].score > hits[1].score):
        return HandlerResult([detail_reply(ctx, hits[0].item)])
    return await search_text(ctx, msg, arg)


FEATURE = Feature(
    name="course",
    actions={ShowItem: Route(Intent.COURSE, show_item, screen=True)},
    intents={"course": Route(Intent.COURSE, course_by_text, screen=True)},
)
