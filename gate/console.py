"""What the gate tells the person watching: stderr only, flushed at once, because stdout carries the
report (or a command's data) and a CI log interleaves both streams as they arrive.
"""

from __future__ import annotations

import sys


def log(message: str) -> None:
    """A diagnostic from the gate itself: `green-gate: MESSAGE`."""
    line(f"green-gate: {message}")


def echo(text: str) -> None:
    """A line of the benchmark's own output, indented and barred so it stands apart from the gate's."""
    line(f"  | {text}")


def line(text: str) -> None:
    """`text` as one stderr line, unprefixed: workflow commands (`::error::`, `::add-mask::`) must
    start the line to be read by the runner."""
    sys.stderr.write(f"{text}\n")
    sys.stderr.flush()
