"""Plumbing the importers share: HR's CSV and Excel files, column mappings, cell parsers, employee numbers, batches.

Import batches record what each bulk change did, so that it can be listed and undone.

Other packages import only what this module exports, but for ``files`` and ``pictures`` (private files written
atomically; pictures re-encoded to their pixels), imported by their paths so that Pillow loads only where
pictures are handled.
"""

from bot.services.common.batches import Journal, UndoResult, get_batch, list_batches, undo_batch
from bot.services.common.cells import excel_safe, fold, narrow, parse_bool, parse_date, parse_hours
from bot.services.common.csvio import (
    ColumnMap,
    ImportFileError,
    ImportReport,
    MappingFile,
    RowError,
    load_import_mapping,
    load_mapping,
    map_columns,
    note_layout,
    read_table,
    row_error,
    rows_with,
    unknown_employee,
    value_lookup,
)
from bot.services.common.identifiers import NATIONAL_ID, holds_national_id, parse_employee_no
from bot.services.common.problems import CellError, Problem, Say, describe
from bot.services.common.tables import write_csv, write_table

__all__ = [
    "NATIONAL_ID", "CellError", "ColumnMap", "ImportFileError", "ImportReport", "Journal", "MappingFile", "Problem",
    "RowError", "Say", "UndoResult", "describe", "excel_safe", "fold", "get_batch", "holds_national_id", "list_batches",
    "load_import_mapping",
    "load_mapping", "map_columns", "narrow", "note_layout", "parse_bool", "parse_date", "parse_employee_no",
    "parse_hours", "read_table", "row_error", "rows_with", "undo_batch", "unknown_employee", "value_lookup",
    "write_csv", "write_table",
]
