"""What the gate tells the person watching: stderr only, flushed at once, because stdout carries the
report (or a command's data) and a CI log interleaves both streams as they arrive.

Every line is redacted (gate.secrets): the benchmark's output passes through here, and a CI log is
read by more people than the job's secrets are meant for.
"""

from __future__ import annotations

import sys

from gate import secrets

MASK_COMMAND = "::add-mask::"


def log(message: str) -> None:
    """A diagnostic from the gate itself: `green-gate: MESSAGE`."""
    line(f"green-gate: {message}")


def echo(text: str) -> None:
    """A line of the benchmark's own output, indented and barred so it stands apart from the gate's:
    nothing it prints starts a line, so it cannot issue workflow commands either."""
    line(f"  | {text}")


def line(text: str) -> None:
    """`text` as one stderr line, unprefixed: workflow commands (`::error::`) must start the line to
    be read by the runner. Redacted, except `::add-mask::VALUE`, whose whole point is to hand the
    runner the value (and which the runner never prints)."""
    sys.stderr.write(f"{text if text.startswith(MASK_COMMAND) else secrets.redact(text)}\n")
    sys.stderr.flush()
