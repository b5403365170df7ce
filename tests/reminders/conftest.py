"""The fake LINE API fixture of tests/line, for the reminders' delivery tests."""

from tests.line.conftest import fake

__all__ = ["fake"]
