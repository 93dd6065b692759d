"""The GitHub Actions runtime: step summary, outputs and annotations (workflow commands).

Diagnostics go to stderr; stdout carries results only. Everything written here is redacted
(gate.secrets): the job summary and outputs are not masked by the runner, only its log is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from gate import console, secrets
from gate.secrets import MIN_SECRET_CHARS

Level = Literal["error", "warning", "notice"]

# GitHub refuses a step's summary file past 1 MiB (and shows none of it), so every append shares it.
MAX_STEP_SUMMARY_BYTES = 1024 * 1024
_CUT_NOTICE = "\n\n> [!WARNING]\n> The job summary was cut at GitHub's 1 MiB limit; the whole text is in {where}.\n"


def in_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: Level, message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> str:
    """The `::error file=…,line=…::message` command text (see GitHub's workflow-commands docs).

    Redacted before escaping: an escaped secret (`%2C` for a comma) would no longer match."""
    redact = secrets.active_secrets().redact
    message, file, title = redact(message), redact(file) if file else file, redact(title) if title else title
    props = []
    if file:
        props.append(f"file={_escape_property(file)}")
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_escape_data(message)}"


def annotate(
    level: Level, message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> None:
    console.line(annotation(level, message, file=file, line=line, title=title))


def append_step_summary(env: Mapping[str, str], markdown: str, *, full_at: str | None = None) -> bool:
    """Append `markdown` to the step summary, cut so the file stays within MAX_STEP_SUMMARY_BYTES;
    a cut ends with a pointer to `full_at` (where the whole text was written), if given."""
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    summary = Path(path)
    try:
        used_bytes = summary.stat().st_size
    except FileNotFoundError:
        used_bytes = 0
    data = (secrets.redact(markdown).rstrip("\n") + "\n").encode("utf-8")
    room_bytes = MAX_STEP_SUMMARY_BYTES - used_bytes
    if len(data) > room_bytes:
        where = f"`{full_at}`" if full_at else "the gate's report file"
        notice = _CUT_NOTICE.format(where=where).encode("utf-8")
        keep_bytes = room_bytes - len(notice)
        if keep_bytes < 0:
            return False
        # Cut on a character boundary: a split UTF-8 sequence would make the whole file unreadable.
        data = data[:keep_bytes].decode("utf-8", errors="ignore").encode("utf-8") + notice
    with summary.open("ab") as handle:
        handle.write(data)
    return True


def set_outputs(env: Mapping[str, str], outputs: Mapping[str, str]) -> bool:
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return False
    outputs = secrets.active_secrets().redact_data(dict(outputs))
    with Path(path).open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            if "\n" in value:
                delimiter = f"ghadelim_{uuid.uuid4().hex}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                handle.write(f"{name}={value}\n")
    return True


def add_mask(value: str) -> None:
    """Ask the runner to replace `value` with *** in every later log line: one command per line of it,
    since the runner masks line by line (lines too short to be secrets, see gate.secrets, are left)."""
    add_masks(value.splitlines())


def add_masks(values: Iterable[str]) -> None:
    """`::add-mask::` for each of `values` (single lines; see Secrets.mask_values)."""
    for value in values:
        value = value.strip()
        if len(value) >= MIN_SECRET_CHARS:
            console.line(f"{console.MASK_COMMAND}{_escape_data(value)}")
