"""HR's bulk changes across the features: batches and their undo, import safety, the held-out HR files."""

from tests.accounts.conftest import write_file

__all__ = ["write_file"]
