"""Allow ``python -m bot`` as an alias of the ``abc-bot`` command."""

from bot.cli import main

raise SystemExit(main())
