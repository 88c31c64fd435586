"""atheris harness for tests.fuzz.targets.corefile (see harness.py for the command line)."""

from __future__ import annotations

from harness import main

if __name__ == "__main__":
    main(
        "corefile",
        ["dnsd.corefile", "dnsd.corefile_lexer", "dnsd.corefile_parser", "dnsd.instance"],
    )
