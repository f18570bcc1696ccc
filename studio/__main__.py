"""`python -m studio ...`: the command line; see `studio.cli`."""

from __future__ import annotations

from studio.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
