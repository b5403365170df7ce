"""Fixtures of the certificate tests: the app with a private media folder and a link signer, bound chat users."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import Runtime
from bot.db.channel_accounts import get_or_create_account
from bot.services.accounts import find_employee
from bot.services.certificates import MediaStore, UrlSigner

SECRET = b"test-media-secret"


def use_certificates(runtime: Runtime, **changes: Any) -> Runtime:
    """Replace parts of the certificate feature's deps, for the dispatcher and the web server alike."""
    app = replace(runtime.app, certificates=replace(runtime.app.certificates, **changes))
    runtime.app = app
    runtime.dispatcher.app = app
    return runtime


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    """A media folder of the test's own."""
    return MediaStore(tmp_path / "media")


@pytest.fixture
def cert_app(app: Runtime, media: MediaStore) -> Runtime:
    """The demo app on each database, with the test's media folder and links signed for a local base URL.

    No OCR reader, whether the optional extra is installed or not (tests/certificates/test_ocr.py has its own).
    """
    return use_certificates(app, store=media, signer=UrlSigner(SECRET, "http://127.0.0.1:1", 600), ocr=None)


async def bind(runtime: Runtime, channel: str, user: str, employee_no: str, lang: str = "zh-TW") -> int:
    """Bind a chat user to an employee directly (the binding flow has its own tests); returns the employee id."""
    async with runtime.sessions.begin() as session:
        account = await get_or_create_account(session, channel, user, lang=lang, now=runtime.clock.now())
        employee = await find_employee(session, employee_no)
        assert employee is not None
        account.employee_id, account.bound_at = employee.id, runtime.clock.now()
        return employee.id


def postbacks(message_json: Any) -> dict[str, str]:
    """Every postback button of LINE messages as label → data (quick replies, Flex buttons, confirm actions)."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "postback" and "data" in node:
                found.setdefault(str(node.get("label") or node.get("displayText")), str(node["data"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message_json)
    return found
