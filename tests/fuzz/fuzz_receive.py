"""atheris harness for tests.fuzz.targets.receive (see harness.py for the command line)."""

from __future__ import annotations

from harness import main

if __name__ == "__main__":
    main("receive", ["dnsd.wire", "dnsd.encode", "dnsd.scrub", "dnsd.server", "dnsd.request"])
