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
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when built


class PlainLoader(_Loader):  # type: ignore[valid-type,misc]
    """YAML without implicit numbers, dates or sexagesimals: ``14:00`` stays the text "14:00".

    For files HR writes by hand (classes): pydantic turns texts into numbers where the schema wants them.
    """


PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class DataFileError(ValueError):
    """A data file is missing or invalid; the message names the file and the key."""


def read_yaml(path: Path, *, loader: type[yaml.SafeLoader] = _Loader) -> Any:
    """Read a YAML file (UTF-8, a byte-order mark allowed); any failure names the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return yaml.load(text, Loader=loader)  # a safe loader (or PlainLoader, also safe)
    except yaml.YAMLError as exc:
        raise DataFileError(f"{path}: not valid YAML: {exc}") from exc


def locate(raw: Any, loc: tuple[int | str, ...], *, key: str = "id", line_of: dict[int, int] | None = None) -> str:
    """Render a pydantic error location, naming list items by their ``key`` (``[id=B1-3]``) where they have one.

    ``line_of`` maps the positions of a top-level list to lines of the file they came from (a CSV).
    """
    parts: list[str] = []
    node = raw
    for depth, p in enumerate(loc):
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            parts.append(str(p))
            continue
        if isinstance(p, int) and isinstance(node, dict) and node.get(key):
            label = f"[{key}={node[key]}]"
            if line_of and depth == 1 and p in line_of:
                label = f"line {line_of[p]} {label}"
            parts.append(label)
        else:
            parts.append(str(p))
    return ".".join(parts) or "(top)"


def validate_file(model: type[M], raw: Any, path: Path, *, key: str = "id", line_of: dict[int, int] | None = None,
                  context: dict[str, Any] | None = None, limit: int = MAX_PROBLEMS) -> M:
    """Validate parsed data against ``model`` (``key``, ``line_of``: see :func:`locate`).

    Raises:
        DataFileError: one ``file: key: problem`` line per problem (the first ``limit``, then a count).
    """
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        lines = [f"{path}: {locate(raw, tuple(e['loc']), key=key, line_of=line_of)}: {e['msg']}"
                 for e in errors[:limit]]
        if len(errors) > limit:
            lines.append(f"{path}: … and {len(errors) - limit} more problems")
        raise DataFileError("\n".join(lines)) from None
