"""The plan catalog: tracks → categories → items (classes, series) → courses, loaded from ``data/``.

The YAML files are validated as a whole; a bad file stops the program with a message that names
the file and the key (see :class:`DataFileError`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.datafiles import DataFileError, read_yaml, validate_file

__all__ = ["Catalog", "CatalogItem", "DataFileError", "load_catalog", "plan_dir", "read_yaml"]

BucketId = Literal["policy", "environment", "democracy", "other"]
ItemKind = Literal["class", "series", "course"]
ID_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,11}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Topic(_Strict):
    """A topic that a class lists."""

    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class ItemSpec(_Strict):
    """A class, series or course as written in the catalog file."""

    id: str = Field(pattern=ID_PATTERN)
    kind: ItemKind
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    description: str = ""
    description_en: str = ""
    audience: tuple[str, ...] = ()
    bucket: BucketId = "other"
    topics: tuple[Topic, ...] = ()
    aliases: tuple[str, ...] = ()
    courses: tuple[ItemSpec, ...] = ()

    @model_validator(mode="after")
    def _courses_only_in_series(self) -> ItemSpec:
        if self.courses and self.kind != "series":
            raise ValueError(f"item {self.id}: only a series may list courses")
        for course in self.courses:
            if course.kind != "course" or course.courses:
                raise ValueError(f"item {course.id}: a series holds plain courses only")
        return self


class CategorySpec(_Strict):
    """A category of a track (e.g. A1 領導管理訓練)."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    title_en: str
    description: str = ""
    description_en: str = ""
    items: tuple[ItemSpec, ...] = Field(min_length=1)


class TrackSpec(_Strict):
    """One of the three ABC tracks."""

    id: Literal["A", "B", "C"]
    title: str
    title_en: str
    description: str = ""
    description_en: str = ""
    categories: tuple[CategorySpec, ...] = Field(min_length=1)


class PlanSpec(_Strict):
    """The plan's identity."""

    year: int = Field(ge=100, le=200)
    title: str
    title_en: str
    issued: str = ""
    reference: str = ""


class CatalogFile(_Strict):
    """The whole ``catalog.yaml``."""

    plan: PlanSpec
    tracks: tuple[TrackSpec, ...] = Field(min_length=1)

    @field_validator("tracks")
    @classmethod
    def _unique_ids(cls, tracks: tuple[TrackSpec, ...]) -> tuple[TrackSpec, ...]:
        seen: set[str] = set()
        for track in tracks:
            for cat in track.categories:
                ids = [cat.id]
                for item in cat.items:
                    ids.append(item.id)
                    ids.extend(c.id for c in item.courses)
                for i in ids:
                    if i in seen:
                        raise ValueError(f"id {i} is used twice")
                    seen.add(i)
        return tracks


@dataclass(frozen=True)
class CatalogItem:
    """A browsable, searchable catalog entry with its place in the tree."""

    id: str
    kind: ItemKind
    title: str
    title_en: str
    description: str
    description_en: str
    audience: tuple[str, ...]
    bucket: BucketId
    topics: tuple[Topic, ...]
    aliases: tuple[str, ...]
    track_id: str
    category_id: str
    series_id: str | None
    course_ids: tuple[str, ...]

    def localized_title(self, lang: str) -> str:
        """Title in ``lang`` (the verbatim title for zh-TW)."""
        return self.title if lang == "zh-TW" else self.title_en

    def localized_description(self, lang: str) -> str:
        """Description in ``lang``, falling back to the other language."""
        if lang == "zh-TW":
            return self.description or self.description_en
        return self.description_en or self.description


class Catalog:
    """The loaded catalog of one plan year, with fast lookups by id."""

    def __init__(self, spec: CatalogFile) -> None:
        self.spec = spec
        self.year = spec.plan.year
        self.tracks: dict[str, TrackSpec] = {t.id: t for t in spec.tracks}
        self.categories: dict[str, CategorySpec] = {}
        self.category_track: dict[str, str] = {}
        self.items: dict[str, CatalogItem] = {}
        for track in spec.tracks:
            for cat in track.categories:
                self.categories[cat.id] = cat
                self.category_track[cat.id] = track.id
                for item in cat.items:
                    self._add(item, track.id, cat.id, None)
                    for course in item.courses:
                        self._add(course, track.id, cat.id, item.id)

    def _add(self, spec: ItemSpec, track: str, category: str, series: str | None) -> None:
        self.items[spec.id] = CatalogItem(
            id=spec.id, kind=spec.kind, title=spec.title, title_en=spec.title_en,
            description=spec.description, description_en=spec.description_en,
            audience=spec.audience, bucket=spec.bucket, topics=spec.topics, aliases=spec.aliases,
            track_id=track, category_id=category, series_id=series,
            course_ids=tuple(c.id for c in spec.courses),
        )

    def __iter__(self) -> Iterator[CatalogItem]:
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> CatalogItem | None:
        """Return an item by id, or None."""
        return self.items.get(item_id)

    def category_items(self, category_id: str) -> list[CatalogItem]:
        """Top-level items of a category (classes and series, not the courses inside a series)."""
        cat = self.categories[category_id]
        return [self.items[i.id] for i in cat.items]

    def to_json_rows(self) -> list[dict[str, Any]]:
        """Every item as the ``abc-bot catalog --json`` shape."""
        rows = []
        for item in self:
            rows.append({
                "id": item.id,
                "kind": item.kind,
                "title": item.title,
                "title_en": item.title_en,
                "track": item.track_id,
                "category": self.categories[item.category_id].title,
                "series": self.items[item.series_id].title if item.series_id else None,
                "audience": list(item.audience),
                "topics": [t.title for t in item.topics],
                "description": item.description,
            })
        return rows


def plan_dir(data_dir: Path, year: int) -> Path:
    """The folder of a plan year's data files."""
    return data_dir / "plans" / str(year)


def load_catalog(data_dir: Path, year: int) -> Catalog:
    """Load and validate ``data/plans/<year>/catalog.yaml``.

    Raises:
        DataFileError: the file is missing, not YAML, or breaks the schema (file and key named).
    """
    path = plan_dir(data_dir, year) / "catalog.yaml"
    spec = validate_file(CatalogFile, read_yaml(path), path)
    if spec.plan.year != year:
        raise DataFileError(f"{path}: plan.year: is {spec.plan.year}, but the folder is for {year}")
    return Catalog(spec)
