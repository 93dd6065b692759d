"""The phase helper waits for queued GPU work before its end mark, so the tail is inside the window."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from gate.phase import PHASES_ENV, phase


def marks(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class FakeCuda:
    """torch.cuda as far as the helper uses it; `synchronize` records what the marks file held then."""

    def __init__(
        self, path: Path, initialised: bool = True, reserved_b: tuple[int, ...] = (1,), current: int = 0
    ) -> None:
        self.path = path
        self.initialised = initialised
        self.reserved_b = reserved_b  # memory the caching allocator holds per device: which ones were used
        self.current = current
        self.events_at_sync: list[list[object]] = []
        self.synchronized: list[int] = []

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return self.initialised

    def current_device(self) -> int:
        return self.current

    def device_count(self) -> int:
        return len(self.reserved_b)

    def memory_reserved(self, device: int) -> int:
        return self.reserved_b[device]

    def synchronize(self, device: int | None = None) -> None:
        self.synchronized.append(self.current if device is None else device)
        if device in (None, self.current):
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
    # Before the start mark (queued warm-up work is not the phase's) and before the end mark.
    assert cuda.events_at_sync == [[], ["start"]]
    assert [m["event"] for m in marks(marks_file)] == ["start", "end"]


def test_every_device_torch_used_is_synchronised_and_no_other(
    marks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Current device 1; the allocator holds memory on 1 and 3: 0 and 2 were never used (no context made there)."""
    cuda = FakeCuda(marks_file, reserved_b=(0, 4096, 0, 2048), current=1)
    install_torch(monkeypatch, cuda)
    with phase("inference"):
        pass
    assert cuda.synchronized == [1, 3, 1, 3]


class FakeCupy:
    """cupy.cuda as far as the helper uses it: devices with a context of this process, the current one."""

    def __init__(self, path: Path, contexts: tuple[bool, ...], current: int = 0) -> None:
        self.path = path
        self.contexts = contexts
        self.device = current
        self.synchronized: list[tuple[int, list[object]]] = []
        runtime = types.SimpleNamespace(
            getDevice=lambda: self.device,
            setDevice=self.set_device,
            getDeviceCount=lambda: len(contexts),
            deviceSynchronize=self.synchronize,
        )
        driver = types.SimpleNamespace(devicePrimaryCtxGetState=lambda d: (0, int(self.contexts[d])))
        self.module = types.ModuleType("cupy")
        self.module.cuda = types.SimpleNamespace(runtime=runtime, driver=driver)  # type: ignore[attr-defined]

    def set_device(self, device: int) -> None:
        self.device = device

    def synchronize(self) -> None:
        events = [m["event"] for m in marks(self.path)]
        self.synchronized.append((self.device, events))


def test_cupy_waits_before_both_marks_on_every_device_it_opened(
    marks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cupy = FakeCupy(marks_file, contexts=(True, False, True))
    monkeypatch.setitem(sys.modules, "cupy", cupy.module)
    with phase("inference"):
        pass
    assert cupy.synchronized == [(0, []), (2, []), (0, ["start"]), (2, ["start"])]
    assert cupy.device == 0  # the current device is left as it was


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
    assert seen == [[], ["start"]] and cuda.events_at_sync == []
    with phase("b", sync=False):
        pass
    assert cuda.events_at_sync == []


def test_a_failing_sync_ends_the_phase_as_failed(marks_file: Path) -> None:
    calls: list[int] = []

    def broken() -> None:  # the block's own work fails; the wait before the start mark went well
        calls.append(1)
        if len(calls) > 1:
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
