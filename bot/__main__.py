"""Allow `python -m bot` as an alias for the `incidentbot` console script."""

from bot.ops.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
