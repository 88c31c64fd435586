"""atheris harness for tests.fuzz.targets.informer_events (see harness.py for the command line)."""

from __future__ import annotations

from harness import main

if __name__ == "__main__":
    main(
        "informer",
        [
            "dnsd.plugins.kubernetes.informer",
            "dnsd.plugins.kubernetes.store",
            "dnsd.plugins.kubernetes.records",
        ],
    )
