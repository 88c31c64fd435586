"""``python -m dnsd``: the same as the ``dnsd`` command."""

from __future__ import annotations

from dnsd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
