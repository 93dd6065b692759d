"""The output tail kept for the report stays small whatever the benchmark prints: each line and the
whole tail are capped, and a cut says how much it left out."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from gate.bench.process import MAX_TAIL_CHARS, MAX_TAIL_LINE_CHARS, TAIL_LINES, cap_tail, execute

PY = shlex.quote(sys.executable)


def test_a_five_megabyte_line_is_cut_in_the_tail_and_says_how_much(tmp_path: Path) -> None:
    (tmp_path / "bench.py").write_text("print('x' * 5_000_000)\nprint('done')\n")
    echoed: list[str] = []
    result = execute(None, f"{PY} bench.py", cwd=tmp_path, env={}, timeout_s=60, echo=echoed.append)
    first, last = result.tail
    assert last == "done"
    assert first.startswith("x" * MAX_TAIL_LINE_CHARS)
    assert first.endswith(f"… ({5_000_000 - MAX_TAIL_LINE_CHARS:,} characters cut)")
    assert len(first) < MAX_TAIL_LINE_CHARS + 50


def test_the_whole_tail_is_capped_keeping_the_last_lines() -> None:
    lines = [f"{i:04d}" + "y" * (MAX_TAIL_LINE_CHARS - 4) for i in range(TAIL_LINES)]
    tail = cap_tail(lines)
    assert sum(len(line) for line in tail) <= MAX_TAIL_CHARS
    assert tail[-1] == lines[-1]  # the end of the output is what explains a failure
    assert tail[0].startswith("… (") and "lines cut" in tail[0]
    assert tail[1:] == tuple(lines[-(len(tail) - 1) :])


def test_a_short_tail_is_kept_as_it_is() -> None:
    assert cap_tail(["a", "b"]) == ("a", "b")
