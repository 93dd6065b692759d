"""What the gate writes to stderr, byte for byte (CI logs and the action's workflow commands read it)."""

from __future__ import annotations

import pytest

from gate import console


def test_lines_go_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    console.log("MLflow: sqlite:///x.db")
    console.echo("epoch 1/3")
    console.line("::add-mask::s3cret")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "green-gate: MLflow: sqlite:///x.db\n  | epoch 1/3\n::add-mask::s3cret\n"


def _command_lines(err: str) -> list[str]:
    """The physical lines the runner would read as workflow commands: it splits on CR and LF alike,
    and ignores leading spaces before `::`."""
    return [
        line for line in err.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.lstrip().startswith("::")
    ]


@pytest.mark.parametrize(
    "text", ["ok\r::error::pwned", "ok\n::error::pwned", "ok\r\n::stop-commands::x", "\r::warning::w"]
)
def test_benchmark_output_cannot_start_a_line_with_a_workflow_command(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    console.echo(text)
    err = capsys.readouterr().err
    assert _command_lines(err) == []
    assert all(line.startswith("  | ") for line in err.splitlines())
    assert "pwned" in err or "x" in err or "w" in err  # split, not dropped


def test_a_gate_message_with_a_newline_stays_prefixed_on_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    console.log("branch main\n::error::pwned and\rmore")
    err = capsys.readouterr().err
    assert _command_lines(err) == []
    assert err == "green-gate: branch main\ngreen-gate: ::error::pwned and\ngreen-gate: more\n"


def test_a_raw_line_keeps_its_first_line_and_bars_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    console.line("green-gate: setup_command: make\n::error::pwned")
    err = capsys.readouterr().err
    assert _command_lines(err) == []
    assert err.startswith("green-gate: setup_command: make\n")


def test_a_workflow_command_is_one_line_whatever_its_text(capsys: pytest.CaptureFixture[str]) -> None:
    console.line("::add-mask::abc\n::error::pwned")
    console.line("::notice::a\rb")
    err = capsys.readouterr().err
    assert err == "::add-mask::abc%0A::error::pwned\n::notice::a%0Db\n"
