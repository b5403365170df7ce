"""Plumbing the importers share: HR's CSV and Excel files, column mappings, cell parsers, employee numbers, batches.

Import batches record what each bulk change did, so that it can be listed and undone.

Other packages import only what this module exports.
"""

from bot.services.common.batches import Journal, UndoResult, get_batch, list_batches, undo_batch
from bot.services.common.csvio import (
    ImportFileError,
    ImportReport,
    MappingFile,
    RowError,
    excel_safe,
    fold,
    load_import_mapping,
    load_mapping,
    map_columns,
    narrow,
    parse_bool,
    parse_date,
    parse_hours,
    read_table,
    rows_with,
    value_lookup,
)
from bot.services.common.identifiers import NATIONAL_ID, holds_national_id, parse_employee_no

__all__ = [
    "NATIONAL_ID", "ImportFileError", "ImportReport", "Journal", "MappingFile", "RowError", "UndoResult",
    "excel_safe", "fold", "get_batch", "holds_national_id", "list_batches", "load_import_mapping", "load_mapping",
    "map_columns", "narrow", "parse_bool", "parse_date", "parse_employee_no", "parse_hours", "read_table", "rows_with",
    "undo_batch", "value_lookup",
]
