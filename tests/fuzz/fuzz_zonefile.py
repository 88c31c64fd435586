"""atheris harness for tests.fuzz.targets.zonefile (see harness.py for the command line)."""

from __future__ import annotations

from harness import main

if __name__ == "__main__":
    main("zonefile", ["dnsd.plugins.file.zonefile", "dnsd.plugins.file.zone"])
