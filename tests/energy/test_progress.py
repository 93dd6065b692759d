"""Live progress: one rewritten line in a terminal, periodic plain lines in CI logs."""

from __future__ import annotations

import io

from gate.energy.progress import Progress, format_line


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_format_line() -> None:
    assert format_line("bert", 75.4, 412.3, 5071.0) == "[bert] 1:15 elapsed · 412.3 W now · 5.071 kJ so far"


def test_terminal_rewrites_one_line_at_most_twice_a_second() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, tty=True, clock=clock)
    for step in range(10):  # 10 updates over 1 s
        clock.now = step * 0.1
        progress.update("b", clock.now, 100.0, 100.0 * clock.now)
    progress.finish()
    text = out.getvalue()
    assert text.count("\r\x1b[K[b]") == 2 and "\n" not in text
    assert text.endswith("\r\x1b[K")


def test_ci_logs_get_a_plain_line_every_period() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, tty=False, plain_every_s=15.0, clock=clock)
    for second in range(61):
        clock.now = float(second)
        progress.update("b", clock.now, 300.0, 300.0 * second)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert [line.split("]")[1].split("elapsed")[0].strip() for line in lines] == [
        "0:00",
        "0:15",
        "0:30",
        "0:45",
        "1:00",
    ]
    assert all(line.startswith("green-gate: [b] ") and "\r" not in line for line in lines)


def test_detects_tty_from_the_stream() -> None:
    assert Progress(io.StringIO()).tty is False
