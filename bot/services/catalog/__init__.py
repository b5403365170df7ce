"""The plan's catalog: tracks, courses and the rules file of a plan year, the search index, and the catalog mirror.

Other packages import only what this module exports.
"""

from bot.services.catalog.items import BucketId, Catalog, CatalogFile, CatalogItem, load_catalog, plan_dir
from bot.services.catalog.rules import AttendanceRule, RulesFile, load_rules, plan_years
from bot.services.catalog.search import SearchEngine
from bot.services.catalog.search_words import SearchWordsFile, load_search_words
from bot.services.catalog.sync import sync_catalog

__all__ = [
    "AttendanceRule", "BucketId", "Catalog", "CatalogFile", "CatalogItem", "RulesFile", "SearchEngine",
    "SearchWordsFile", "load_catalog", "load_rules", "load_search_words", "plan_dir", "plan_years", "sync_catalog",
]
