"""Golden files are rewritten only on purpose: UPDATE_GOLDEN=1, and no other value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.golden import UPDATE_ENV, check_golden


@pytest.mark.parametrize("value", [None, "", "0", "false", "yes", "true", "2"])
def test_any_other_value_compares_and_leaves_the_file_alone(
    value: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv(UPDATE_ENV, raising=False)
    else:
        monkeypatch.setenv(UPDATE_ENV, value)
    (tmp_path / "report.md").write_text("pinned\n", encoding="utf-8")
    check_golden("report.md", "pinned\n", tmp_path)
    with pytest.raises(AssertionError):
        check_golden("report.md", "changed\n", tmp_path)
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == "pinned\n"
    with pytest.raises(AssertionError, match="missing golden file"):
        check_golden("new.md", "text\n", tmp_path)
    assert not (tmp_path / "new.md").exists()


def test_update_golden_1_rewrites_and_creates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UPDATE_ENV, "1")
    (tmp_path / "report.md").write_text("pinned\n", encoding="utf-8")
    check_golden("report.md", "changed\n", tmp_path)
    check_golden("new.md", "text\n", tmp_path)
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == "changed\n"
    assert (tmp_path / "new.md").read_text(encoding="utf-8") == "text\n"
