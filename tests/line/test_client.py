"""The LINE client without the SDK's messaging package on the hot path: statuses, and what serve imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from linebot.v3.messaging import ApiException

from bot.channels.line_client import LineApiError, status_of


def test_status_of_reads_our_error_and_the_sdks() -> None:
    assert status_of(LineApiError(429, "Too Many Requests")) == 429
    assert status_of(ApiException(status=503, reason="busy")) == 503  # the typed client of the commands
    assert status_of(TimeoutError()) == 0


@pytest.mark.db  # starts a process
def test_serve_imports_neither_the_sdks_messaging_package_nor_alembic() -> None:
    code = ("import sys, bot.bootstrap, bot.channels.line, bot.channels.line_sender, bot.web; "
            "print('linebot.v3.messaging' in sys.modules, 'alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]
