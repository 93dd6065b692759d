"""Names and output the gate does not control cannot issue workflow commands: a real `green-gate
check` in a GitHub Actions-like environment, a branch and commit with line breaks in them, and a
benchmark whose output hides a command behind a lone CR."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.cli import busy_project, run_cli

pytestmark = pytest.mark.slow

BENCH = """\
import json, os
print("ok\\r::error::pwned-by-output")
print("fine\\n::stop-commands::pwned-token")
json.dump({"predictions": 1000}, open(os.environ["GREEN_GATE_METRICS"], "w"))
"""

# The commands the gate itself writes: its masks and its annotations, none carrying the payload.
OWN_COMMAND = re.compile(r"::(add-mask|error|warning|notice)( [^:]*)?::")


def _physical_lines(text: str) -> list[str]:
    """The lines as the runner reads them: CR and LF both end one."""
    return re.split(r"\r\n|\r|\n", text)


def test_branch_commit_and_output_cannot_inject_workflow_commands(tmp_path: Path, cli_env: dict[str, str]) -> None:
    project = busy_project(tmp_path / "p")
    (project / "busy.py").write_text(BENCH)
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs.txt"
    env = {
        **cli_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri(),
    }
    result = run_cli(
        "check",
        "--branch",
        "main\n::error::pwned-by-branch",
        "--commit",
        "a" * 39 + "\r::warning::pwned-by-commit",
        cwd=project,
        env=env,
    )
    assert "Traceback" not in result.stderr
    commands = [line for line in _physical_lines(result.stderr) if line.lstrip().startswith("::")]
    for command in commands:
        assert OWN_COMMAND.match(command), command
        assert "pwned" not in command.split("::", 2)[1], command  # never in a command's name or properties
    assert not [c for c in commands if re.match(r"::(error|warning)::pwned", c)]
    assert "pwned-by-output" in result.stderr  # the output is shown, barred, not dropped


HUGE_LINE_BENCH = """\
import sys
sys.stdout.write("x" * 5_000_000 + "\\n")
sys.stdout.flush()
raise SystemExit(3)
"""


def test_a_five_megabyte_output_line_is_capped_in_the_report_and_the_summary(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    project = busy_project(tmp_path / "p")
    (project / "busy.py").write_text(HUGE_LINE_BENCH)
    summary = tmp_path / "summary.md"
    env = {
        **cli_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri(),
    }
    result = run_cli("check", "--branch", "main", cwd=project, env=env, timeout_s=120)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    report = (project / ".green-gate" / "report.md").read_text()
    assert "characters cut" in report
    assert len(report) < 100_000 and len(result.stdout) < 100_000
    assert summary.stat().st_size <= 1024 * 1024
