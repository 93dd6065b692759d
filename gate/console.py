"""What the gate tells the person watching: stderr only, flushed at once, because stdout carries the
report (or a command's data) and a CI log interleaves both streams as they arrive.

Every line is redacted (gate.secrets): the benchmark's output passes through here, and a CI log is
read by more people than the job's secrets are meant for.
"""

from __future__ import annotations

import re
import sys

from gate import secrets

MASK_COMMAND = "::add-mask::"
COMMAND_START = "::"
CONTINUATION = "  | "

# The runner splits its log on CR as well as LF, so a lone CR starts a physical line too.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _physical_lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def log(message: str) -> None:
    """A diagnostic from the gate itself: `green-gate: MESSAGE`, the prefix on each of its lines, so
    that a branch or commit name with a line break in it cannot start a line of its own."""
    for part in _physical_lines(message):
        line(f"green-gate: {part}")


def echo(text: str) -> None:
    """A line of the benchmark's own output, indented and barred so it stands apart from the gate's:
    nothing it prints starts a line, so it cannot issue workflow commands either (a CR or LF inside
    `text` starts another barred line)."""
    for part in _physical_lines(text):
        line(f"{CONTINUATION}{part}")


def line(text: str) -> None:
    """`text` as one stderr line, unprefixed: workflow commands (`::error::`) must start the line to
    be read by the runner. Redacted, except `::add-mask::VALUE`, whose whole point is to hand the
    runner the value (and which the runner never prints).

    Always one command at most: a workflow command's CR and LF are escaped as the runner decodes them
    (`%0D`, `%0A`), and any other text's later lines are barred like the benchmark's output."""
    if text.lstrip().startswith(COMMAND_START):
        text = text.replace("\r", "%0D").replace("\n", "%0A")
    else:
        first, *rest = _physical_lines(text)
        text = "\n".join([first, *(f"{CONTINUATION}{part}" for part in rest)])
    sys.stderr.write(f"{text if text.startswith(MASK_COMMAND) else secrets.redact(text)}\n")
    sys.stderr.flush()
