"""Commands of the classes feature (filled in by that feature)."""

from __future__ import annotations

from bot.commands import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add this feature's commands to the shared groups."""
