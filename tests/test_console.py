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
