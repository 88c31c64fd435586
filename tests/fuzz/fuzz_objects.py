"""atheris harness for tests.fuzz.targets.objects (see harness.py for the command line)."""

from __future__ import annotations

from harness import main

if __name__ == "__main__":
    main("objects", ["dnsd.plugins.kubernetes.objects"])
