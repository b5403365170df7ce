"""ABC Learning Bot (育才ABC學習小幫手): core package.

Nothing here opens a database or a network client at import time; everything is
built by :func:`bot.bootstrap.build_app` when a command starts.
"""

__version__ = "0.1.0"
