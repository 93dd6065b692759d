"""The phase helper waits for queued GPU work before its end mark, so the tail is inside the window."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from gate.phase import PHASES_ENV, phase


def marks(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class FakeCuda:
    """torch.cuda as far as the helper uses it; `synchronize` records what the marks file held then."""

    def __init__(self, path: Path, initialised: bool = True) -> None:
        self.path = path
        self.initialised = initialised
        self.events_at_sync: list[list[object]] = []

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return self.initialised

    def synchronize(self) -> None:
        self.events_at_sync.append([m["event"] for m in marks(self.path)])


@pytest.fixture
def marks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "phases.jsonl"
    monkeypatch.setenv(PHASES_ENV, str(path))
    return path


def install_torch(monkeypatch: pytest.MonkeyPatch, cuda: FakeCuda) -> None:
    torch = types.ModuleType("torch")
    torch.cuda = cuda  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", torch)


def test_torch_is_synchronised_before_the_end_mark(marks_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cuda = FakeCuda(marks_file)
    install_torch(monkeypatch, cuda)
    with phase("inference", items=4):
        pass
    assert cuda.events_at_sync == [["start"]]  # synchronised after the start, before the end
    assert [m["event"] for m in marks(marks_file)] == ["start", "end"]


def test_torch_without_cuda_initialised_is_not_touched(marks_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cuda = FakeCuda(marks_file, initialised=False)
    install_torch(monkeypatch, cuda)
    with phase("inference"):
        pass
    assert cuda.events_at_sync == []


def test_a_given_sync_hook_runs_before_the_end_mark_and_false_turns_it_off(
    marks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cuda = FakeCuda(marks_file)
    install_torch(monkeypatch, cuda)
    seen: list[list[object]] = []
    with phase("a", sync=lambda: seen.append([m["event"] for m in marks(marks_file)])):
        pass
    assert seen == [["start"]] and cuda.events_at_sync == []
    with phase("b", sync=False):
        pass
    assert cuda.events_at_sync == []


def test_a_failing_sync_ends_the_phase_as_failed(marks_file: Path) -> None:
    def broken() -> None:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    with pytest.raises(RuntimeError, match="illegal memory access"), phase("a", sync=broken):
        pass
    end = marks(marks_file)[-1]
    assert end["event"] == "end" and end["ok"] is False


def test_without_the_marks_file_nothing_is_synchronised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PHASES_ENV, raising=False)
    cuda = FakeCuda(tmp_path / "none")
    install_torch(monkeypatch, cuda)
    with phase("a"):
        pass
    assert cuda.events_at_sync == []
