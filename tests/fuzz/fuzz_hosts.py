"""atheris harness for tests.fuzz.targets.hosts (see harness.py for the command line)."""

from __future__ import annotations

from harness import main

if __name__ == "__main__":
    main("hosts", ["dnsd.plugins.hosts.hostsfile"])
