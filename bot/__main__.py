"""`python -m bot` is the `orchestra` command."""

from bot.cli import main

raise SystemExit(main())
