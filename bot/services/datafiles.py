"""Reading and validating the project's data files (YAML under ``data/``), failing loudly and clearly.

Every loader goes through :func:`read_yaml` and :func:`validate_file`, so every bad file stops the
program with ``file: key.path: problem`` lines; list positions of items that have an ``id`` are shown
as that id (``tracks.1.categories.0.items.[id=B1-3].title_en``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
MAX_PROBLEMS = 10
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DataFileError(ValueError):
    """A data file is missing or invalid; the message names the file and the key."""


def read_yaml(path: Path) -> Any:
    """Read a YAML file (UTF-8, a byte-order mark allowed); any failure names the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a safe loader
    except yaml.YAMLError as exc:
        raise DataFileError(f"{path}: not valid YAML: {exc}") from exc


def locate(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location, naming list items by their ``id`` where they have one."""
    parts: list[str] = []
    node = raw
    for p in loc:
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            parts.append(str(p))
            continue
        if isinstance(p, int) and isinstance(node, dict) and "id" in node:
            parts.append(f"[id={node['id']}]")
        else:
            parts.append(str(p))
    return ".".join(parts) or "(top)"


def validate_file(model: type[M], raw: Any, path: Path) -> M:
    """Validate parsed data against ``model``.

    Raises:
        DataFileError: one ``file: key: problem`` line per problem (the first ten, then a count).
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        lines = [f"{path}: {locate(raw, tuple(e['loc']))}: {e['msg']}" for e in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            lines.append(f"{path}: … and {len(errors) - MAX_PROBLEMS} more problems")
        raise DataFileError("\n".join(lines)) from None
