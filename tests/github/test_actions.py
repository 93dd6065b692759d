"""The Actions runtime's files and commands: the job summary's size limit and workflow-command escaping."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.github import actions


def test_a_summary_over_githubs_limit_is_cut_and_points_at_the_report(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert actions.append_step_summary(env, "# report\n" + "é" * 600_000, full_at="/w/.green-gate/report.md")
    written = summary.read_bytes()
    assert len(written) <= actions.MAX_STEP_SUMMARY_BYTES
    text = written.decode("utf-8")  # never cut inside a character
    assert text.startswith("# report\n")
    assert "/w/.green-gate/report.md" in text.splitlines()[-1]


def test_later_appends_share_the_limit(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    actions.append_step_summary(env, "ab " * ((actions.MAX_STEP_SUMMARY_BYTES - 100) // 3))
    actions.append_step_summary(env, "cd " * 4_000)
    assert summary.stat().st_size <= actions.MAX_STEP_SUMMARY_BYTES


def test_a_summary_within_the_limit_is_written_whole(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    actions.append_step_summary({"GITHUB_STEP_SUMMARY": str(summary)}, "# ok\n\n")
    assert summary.read_text() == "# ok\n"


@pytest.mark.parametrize("title", ["a\nb", "x:y,z", "100%"])
def test_annotation_properties_and_data_are_escaped(title: str) -> None:
    text = actions.annotation("error", "line1\r\n::error::pwned", file="a,b:c.py", line=3, title=title)
    assert "\n" not in text and "\r" not in text
    head, _, message = text.partition("::")[2].partition("::")
    assert message == "line1%0D%0A::error::pwned"
    assert "file=a%2Cb%3Ac.py" in head
    assert ":" not in head.replace("%3A", "") and head.count(",") == 2
