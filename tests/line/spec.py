"""Check what the bot sends against LINE's published OpenAPI spec (../shared/fixtures/line/messaging-api.yml).

openapi-core does not look inside polymorphic schemas (a message with ``"type": "txt"`` passes), so the
spec is checked with jsonschema after one rewrite: every reference to a schema with a ``discriminator``
(Message, Action, FlexComponent, FlexContainer …) becomes "the subtype its ``type`` names", so nested
messages, actions and Flex components are checked against their own schemas. On top of the spec, the
limits LINE documents but the spec leaves out (label lengths, altText, text length) are checked.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

PREFIX = "#/components/schemas/"
LIMITS = {"text": 5000, "altText": 1500, "displayText": 300, "data": 300}


@cache
def _spec(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    schemas: dict[str, Any] = doc["components"]["schemas"]
    poly = {name: s["discriminator"] for name, s in schemas.items() if "discriminator" in s}

    def rewrite(node: Any, in_allof: bool = False) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(PREFIX) and ref[len(PREFIX):] in poly and not in_allof:
                return {"$ref": f"{PREFIX}{ref[len(PREFIX):]}__poly"}
            return {k: [rewrite(i, in_allof=True) for i in v] if k == "allOf" else rewrite(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(i) for i in node]
        return node

    out = {name: rewrite(schema) for name, schema in schemas.items()}
    for name, disc in poly.items():
        prop, mapping = disc["propertyName"], disc.get("mapping", {})
        branches: list[Any] = [{"required": [prop], "properties": {prop: {"enum": sorted(mapping)}}}]
        for value, target in mapping.items():
            branches.append({"if": {"properties": {prop: {"const": value}}, "required": [prop]},
                             "then": {"$ref": target}})
        out[f"{name}__poly"] = {"allOf": branches}
    result = copy.deepcopy(doc)
    result["components"]["schemas"] = out
    return result


def _limits(node: Any, where: str, problems: list[str], parent: str = "") -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "label" and isinstance(value, str):
                limit = 40 if parent == "button" else 20
                if len(value.encode("utf-16-le")) // 2 > limit:
                    problems.append(f"{where}: label over {limit}: {value!r}")
            elif key in LIMITS and isinstance(value, str) and len(value.encode("utf-16-le")) // 2 > LIMITS[key]:
                problems.append(f"{where}: {key} over {LIMITS[key]}")
            if key == "items" and isinstance(value, list) and parent == "quickReply" and len(value) > 13:
                problems.append(f"{where}: more than 13 quick replies")
            if isinstance(value, dict | list):
                _limits(value, where, problems, str(node.get("type", key)) if key == "action" else key)
    elif isinstance(node, list):
        for item in node:
            _limits(item, where, problems, parent)
    if isinstance(node, dict) and node.get("type") == "carousel" and len(node.get("contents", [])) > 12:
        problems.append(f"{where}: carousel of more than 12 bubbles")


def problems(spec_file: Path, path: str, body: Any, method: str = "post") -> list[str]:
    """Everything wrong with a request body for ``path`` (empty when it is valid)."""
    doc = _spec(spec_file)
    schema = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft7Validator({**schema, "components": doc["components"]})
    found = [f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(body)]
    _limits(body, path, found)
    return found


def message_problems(spec_file: Path, messages: list[dict[str, Any]]) -> list[str]:
    """Problems of rendered messages, checked as the body of a reply."""
    problems_found: list[str] = []
    for start in range(0, len(messages), 5):
        problems_found += problems(spec_file, "/v2/bot/message/reply",
                                   {"replyToken": "t", "messages": messages[start:start + 5]})
    return problems_found
