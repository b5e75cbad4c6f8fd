"""Keeps the generated operation tables of docs/dsl.md in step with the registry.

`python -m reasmory_ros.dsl.docgen docs/dsl.md` rewrites the part between the markers; a test
fails when the file and the registry disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import ops  # noqa: F401  (registers the operations)
from .registry import operations_markdown

BEGIN = "<!-- BEGIN GENERATED OPERATIONS (python -m reasmory_ros.dsl.docgen docs/dsl.md) -->"
END = "<!-- END GENERATED OPERATIONS -->"


def with_generated_tables(markdown: str) -> str:
    """The document with its generated section replaced by the registry's current tables."""
    head, found, rest = markdown.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise ValueError(f"the document lacks the markers {BEGIN!r} ... {END!r}")
    return f"{head}{BEGIN}\n\n{operations_markdown()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    path = Path((argv or sys.argv[1:] or ["docs/dsl.md"])[0])
    path.write_text(with_generated_tables(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
