"""Phase marks: the helper a benchmark imports, parsing, attribution, and a real two-process run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gate.energy.phases import PhaseWindow, attribute, parse_phases
from gate.errors import BenchmarkError
from gate.phase import PHASES_ENV, phase

ROOT = Path(__file__).resolve().parents[2]


def mark(event: str, name: str, t: float, **extra: object) -> str:
    return json.dumps({"v": 1, "event": event, "phase": name, "t": t, "pid": 1, **extra})


def test_helper_writes_start_and_end_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "phases.jsonl"
    monkeypatch.setenv(PHASES_ENV, str(path))
    before = time.monotonic()
    with phase("inference") as p:
        p.items = 64
    (window,) = parse_phases(path.read_text())
    assert window.name == "inference" and window.items == 64
    assert before <= window.t0_s <= window.t1_s <= time.monotonic()


def test_helper_is_silent_without_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PHASES_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with phase("inference", items=3):
        pass
    assert list(tmp_path.iterdir()) == []


def test_helper_marks_the_end_even_when_the_block_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "phases.jsonl"
    monkeypatch.setenv(PHASES_ENV, str(path))
    with pytest.raises(RuntimeError), phase("train"):
        raise RuntimeError("diverged")
    assert json.loads(path.read_text().splitlines()[-1])["ok"] is False


def test_helper_imports_nothing_of_the_gate() -> None:
    code = "import sys, gate.phase; print(sorted(m for m in sys.modules if m.startswith('gate')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['gate', 'gate.phase']"


def test_parse_pairs_nested_and_repeated_phases() -> None:
    text = "\n".join(
        [
            mark("start", "load", 1.0),
            mark("end", "load", 2.0),
            mark("start", "inference", 3.0),
            mark("start", "batch", 3.5),
            mark("end", "batch", 4.0, items=8),
            mark("end", "inference", 5.0, items=100),
            "",
        ]
    )
    assert parse_phases(text) == (
        PhaseWindow("load", 1.0, 2.0, None, 1),
        PhaseWindow("inference", 3.0, 5.0, 100, 1),
        PhaseWindow("batch", 3.5, 4.0, 8, 1),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "line 1 is not JSON"),
        (json.dumps({"v": 2, "event": "start", "phase": "x", "t": 1}), "not a phase mark of format 1"),
        (json.dumps({"v": 1, "event": "begin", "phase": "x", "t": 1}), "needs event start|end"),
        (mark("end", "x", 1.0), "phase 'x' ends without having started"),
        (mark("start", "x", 1.0), "line 1: phase 'x' started but never ended"),
        (mark("start", "x", 2.0) + "\n" + mark("end", "x", 1.0), "ends before it starts"),
        (mark("start", "x", 1.0) + "\n" + mark("end", "x", 2.0, items=-3), "has items=-3"),
    ],
)
def test_bad_marks_are_benchmark_errors_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(BenchmarkError, match=message):
        parse_phases(text)


def test_without_phases_the_whole_run_is_the_window() -> None:
    result = attribute((), 10.0, 20.0)
    assert result.windows == ((10.0, 20.0),) and result.items is None
    assert result.describe() == "the whole run (the benchmark marked no phase)"


def test_selected_phases_are_clipped_merged_and_their_items_summed() -> None:
    phases = (
        PhaseWindow("warmup", 9.0, 11.0, 5),
        PhaseWindow("inference", 11.0, 14.0, 100, pid=1),
        PhaseWindow("inference", 13.0, 15.0, 50, pid=2),
        PhaseWindow("inference", 19.0, 25.0, 10),
    )
    result = attribute(phases, 10.0, 20.0, selected=("inference",))
    assert result.windows == ((11.0, 15.0), (19.0, 20.0))
    assert result.duration_s == 5.0
    # The last phase's 1 s of 6 inside the run: its 10 items count 1/6 (its energy is that second's).
    assert result.items == 100 + 50 + 2
    # A phase reaching past the run is said, not silently clipped.
    assert result.describe() == (
        "phase 'inference' (2 windows); 5 s of the marked phases lay outside the run and are not measured"
    )
    inside = attribute(phases[1:3], 10.0, 20.0)
    assert inside.outside_s == 0.0 and inside.describe() == "phase 'inference' (1 window)"
    everything = attribute(phases, 10.0, 20.0)
    assert everything.windows == ((10.0, 15.0), (19.0, 20.0)) and everything.phases == ("warmup", "inference")


def test_items_are_unknown_when_a_measured_phase_lacks_them() -> None:
    phases = (PhaseWindow("a", 1.0, 2.0, 5), PhaseWindow("a", 3.0, 4.0, None))
    assert attribute(phases, 0.0, 5.0).items is None


def test_selecting_a_phase_the_benchmark_did_not_mark_is_an_error() -> None:
    with pytest.raises(BenchmarkError, match="measures phase\\(s\\) inference but the benchmark marked only load"):
        attribute((PhaseWindow("load", 1.0, 2.0),), 0.0, 5.0, selected=("inference",))
    with pytest.raises(BenchmarkError, match="marked no phase"):
        attribute((), 0.0, 5.0, selected=("inference",))
    with pytest.raises(BenchmarkError, match="outside the measured run"):
        attribute((PhaseWindow("a", 10.0, 12.0),), 0.0, 5.0)


def test_phases_written_by_a_child_process_line_up_with_the_parent_clock(tmp_path: Path) -> None:
    path = tmp_path / "phases.jsonl"
    child = textwrap.dedent(
        """
        import time
        from gate.phase import phase
        time.sleep(0.2)  # "model load": not measured
        with phase("inference", items=32):
            time.sleep(0.3)
        time.sleep(0.1)
        """
    )
    t_start = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, env={"PYTHONPATH": str(ROOT), PHASES_ENV: str(path)}, check=True
    )
    t_stop = time.monotonic()
    result = attribute(parse_phases(path.read_text()), t_start, t_stop)
    ((t0, t1),) = result.windows
    assert t_start + 0.2 <= t0 < t1 <= t_stop - 0.1  # the child's marks sit inside the parent's run, in order
    assert 0.3 <= t1 - t0 < 0.3 + 0.25
    assert result.items == 32 and result.phases == ("inference",)


def test_marks_stamped_on_another_kernels_clock_are_refused_not_misplaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "phases.jsonl"
    monkeypatch.setenv(PHASES_ENV, str(path))
    with phase("inference"):
        pass
    offset_s = time.time() - time.monotonic()
    assert len(parse_phases(path.read_text(), offset_s)) == 1  # this machine's clock: placed
    # A VM booted 3 h later than this machine: the same wall time, a monotonic clock 3 h behind.
    shifted = "".join(
        json.dumps({**json.loads(line), "t": json.loads(line)["t"] - 10_800.0}) + "\n"
        for line in path.read_text().splitlines()
    )
    with pytest.raises(BenchmarkError, match="line 1: phase 'inference' was stamped on another monotonic clock"):
        parse_phases(shifted, offset_s)
    # Marks without wall time (an older copy of the helper) are taken as they are.
    legacy = "".join(
        json.dumps({k: v for k, v in json.loads(line).items() if k != "wall"}) + "\n" for line in shifted.splitlines()
    )
    assert len(parse_phases(legacy, offset_s)) == 1


def test_each_measured_phase_is_kept_apart_with_its_own_items() -> None:
    phases = (
        PhaseWindow("load", 0.0, 1.0),
        PhaseWindow("prefill", 1.0, 1.5, items=512, pid=1),
        PhaseWindow("decode", 1.5, 3.5, items=64, pid=1),
        PhaseWindow("prefill", 3.5, 4.0, items=512, pid=1),
        PhaseWindow("decode", 3.7, 4.5, items=64, pid=2),  # another process, overlapping prefill
    )
    result = attribute(phases, 0.0, 5.0, selected=("prefill", "decode"))
    prefill, decode = result.by_phase
    assert (prefill.name, prefill.windows, prefill.items) == ("prefill", ((1.0, 1.5), (3.5, 4.0)), 1024)
    assert (decode.name, decode.windows, decode.items) == ("decode", ((1.5, 3.5), (3.7, 4.5)), 128)
    assert prefill.duration_s == pytest.approx(1.0) and decode.duration_s == pytest.approx(2.8)
    assert result.windows == ((1.0, 4.5),)  # the run's windows merge across phases: no second twice
    assert result.items == 1152


def test_a_phase_without_items_has_none_and_one_outside_the_run_is_left_out() -> None:
    phases = (PhaseWindow("prefill", 1.0, 2.0, items=8), PhaseWindow("decode", 2.0, 3.0), PhaseWindow("x", 9.0, 9.5))
    result = attribute(phases, 0.0, 5.0)
    assert [(s.name, s.items) for s in result.by_phase] == [("prefill", 8), ("decode", None)]
    assert result.items is None  # the run's count would understate: decode counted nothing


def test_marks_carry_the_processes_cpu_time_and_each_phase_gets_its_own() -> None:
    text = "\n".join(
        [
            mark("start", "load", 0.0, cpu_s=1.0),
            mark("end", "load", 1.0, cpu_s=1.2),
            mark("start", "infer", 1.0, cpu_s=1.2),
            mark("start", "batch", 1.5, cpu_s=1.4),  # nested in infer: its CPU time is infer's too
            mark("end", "batch", 2.0, cpu_s=1.9),
            mark("end", "infer", 3.0, cpu_s=2.7),
        ]
    )
    run = attribute(parse_phases(text), 0.0, 3.0)
    shares = {p.name: p.cpu_s for p in run.by_phase}
    assert shares == pytest.approx({"load": 0.2, "infer": 1.5, "batch": 0.5})
    assert run.cpu_s == pytest.approx(0.2 + 1.5)  # the nested phase counted once


def test_marks_of_an_older_helper_have_no_cpu_time() -> None:
    run = attribute(parse_phases(mark("start", "a", 0.0) + "\n" + mark("end", "a", 1.0)), 0.0, 1.0)
    assert run.cpu_s is None and run.by_phase[0].cpu_s is None


def test_helper_stamps_cpu_seconds_that_grow_with_the_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "phases.jsonl"
    monkeypatch.setenv(PHASES_ENV, str(path))
    with phase("busy"):
        sum(i * i for i in range(300_000))
    with phase("idle"):
        time.sleep(0.2)
    busy, idle = parse_phases(path.read_text())
    assert busy.cpu_s is not None and idle.cpu_s is not None
    assert busy.cpu_s > 0.005 and idle.cpu_s < busy.cpu_s / 2
