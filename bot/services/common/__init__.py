"""Plumbing the importers share: reading HR's CSV and Excel files, column mappings, cell parsers, employee numbers.

Other packages import only what this module exports.
"""

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
from bot.services.common.identifiers import NATIONAL_ID, parse_employee_no

__all__ = [
    "NATIONAL_ID", "ImportFileError", "ImportReport", "MappingFile", "RowError", "excel_safe", "fold",
    "load_import_mapping", "load_mapping", "map_columns", "narrow", "parse_bool", "parse_date",
    "parse_employee_no", "parse_hours", "read_table", "rows_with", "value_lookup",
]
