"""The sample data of ``data/demo/`` (every name marked 範例), loaded only into an empty console database.

Other packages import only what this module exports.
"""

from bot.services.demo.seed import seed_demo

__all__ = [
    "seed_demo",
]
