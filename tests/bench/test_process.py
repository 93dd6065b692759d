"""Running a benchmark child: process group, timeout, live output and tail, the metrics file."""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
import time
from pathlib import Path

import pytest

from gate.bench.process import TAIL_LINES, Execution, describe_failure, execute, parse_metrics
from gate.errors import BenchmarkError

PY = shlex.quote(sys.executable)


def run(
    script: str, tmp_path: Path, timeout_s: float = 30.0, env: dict[str, str] | None = None
) -> tuple[Execution, list[str]]:
    (tmp_path / "bench.py").write_text(script)
    echoed: list[str] = []
    result = execute(None, f"{PY} bench.py", cwd=tmp_path, env=env or {}, timeout_s=timeout_s, echo=echoed.append)
    return result, echoed


def test_success_streams_output_and_reads_metrics(tmp_path: Path) -> None:
    script = (
        "import json, os\n"
        "print('hello'); print('world')\n"
        "json.dump({'predictions': 64, 'accuracy': 0.5}, open(os.environ['GREEN_GATE_METRICS'], 'w'))\n"
    )
    result, echoed = run(script, tmp_path)
    assert result.returncode == 0 and not result.failed and not result.timed_out
    assert echoed == ["hello", "world"]
    assert result.tail == ("hello", "world")
    assert parse_metrics(result.metrics_text).predictions == 64


def test_env_from_budget_reaches_the_child(tmp_path: Path) -> None:
    _, echoed = run("import os; print(os.environ['SEED'])", tmp_path, env={"SEED": "42"})
    assert echoed == ["42"]


def test_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    result, echoed = run("for i in range(100): print(i)", tmp_path)
    assert len(echoed) == 100
    assert result.tail == tuple(str(i) for i in range(100 - TAIL_LINES, 100))


def test_nonzero_exit_is_a_failure(tmp_path: Path) -> None:
    result, _ = run("import sys; print('boom'); sys.exit(7)", tmp_path)
    assert result.failed and result.returncode == 7
    assert describe_failure(result, 30) == "exited with status 7"
    assert result.tail == ("boom",)


@pytest.mark.slow  # waits out a real timeout and the kill grace
def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(300)\n"
    )
    started = time.monotonic()
    result, echoed = run(script, tmp_path, timeout_s=2.0)
    assert time.monotonic() - started < 15
    assert result.timed_out and result.failed and result.returncode is None
    assert "timed out after 2 s" in describe_failure(result, 2.0)
    assert echoed == ["started"]
    grandchild = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(grandchild, 0)


@pytest.mark.slow  # real processes and their reaping
def test_stray_children_do_not_outlive_a_finished_benchmark(tmp_path: Path) -> None:
    pid_file = tmp_path / "stray.pid"
    script = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], stdout=subprocess.DEVNULL)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
    )
    result, _ = run(script, tmp_path)
    assert result.returncode == 0
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_missing_command_is_reported_as_benchmark_failure(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError) as info:
        execute(("/nonexistent/benchmark",), None, cwd=tmp_path, env={}, timeout_s=5, echo=print)
    assert "cannot start the benchmark command" in info.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"predictions": -3}', "must be a positive whole number"),
        ('{"predictions": true}', "must be a positive whole number"),
        ('{"accuracy": "high"}', "'accuracy' in $GREEN_GATE_METRICS must be a finite number"),
        ('{"energy_j": 1.0}', "one the gate computes itself"),
    ],
)
def test_bad_metrics_are_explained(text: str, message: str) -> None:
    with pytest.raises(BenchmarkError) as info:
        parse_metrics(text, reserved=frozenset({"energy_j"}))
    assert message in info.value.message


def test_metrics_absent_or_empty_mean_no_predictions() -> None:
    assert parse_metrics(None).predictions is None
    assert parse_metrics("  ").quality == {}
    parsed = parse_metrics('{"predictions": 12800, "accuracy": 0.912, "f1": 1}')
    assert parsed.predictions == 12800 and parsed.quality == {"accuracy": 0.912, "f1": 1.0}


# --- the metrics file: hostile or broken content ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"predictions": NaN}', "predictions"),
        ('{"predictions": Infinity}', "predictions"),
        ('{"predictions": 1e400}', "predictions"),
        ('{"predictions": ' + "9" * 400 + "}", "predictions"),
        ('{"predictions": 12.5}', "predictions"),
        ('{"predictions": 0}', "predictions"),
        ('{"predictions": -1e3}', "predictions"),
        ('{"predictions": 1e16}', "predictions"),
        ('{"predictions": "12800"}', "predictions"),
        ('{"accuracy": NaN}', "accuracy"),
        ('{"accuracy": -Infinity}', "accuracy"),
        ('{"accuracy": 1e400}', "accuracy"),
        ('{"accuracy": ' + "9" * 400 + "}", "accuracy"),
        ('{"accuracy": ' + "9" * 5000 + "}", "$GREEN_GATE_METRICS"),
        ('{"accuracy": [0.9]}', "accuracy"),
    ],
)
def test_absurd_values_are_a_benchmark_error_naming_the_key(text: str, key: str) -> None:
    with pytest.raises(BenchmarkError) as info:
        parse_metrics(text)
    assert info.value.exit_code == 3 and key in info.value.message
    assert len(info.value.render()) < 1_000


def test_a_whole_number_written_as_a_float_is_a_count_of_predictions() -> None:
    assert parse_metrics('{"predictions": 12800.0}').predictions == 12800


@pytest.mark.parametrize(
    ("name", "rename"),
    [
        ("energy_j", "bench_energy_j"),  # one of the gate's metrics
        ("energy_per_prediction_j", "bench_energy_per_prediction_j"),
        ("energy_cpu_j", "bench_energy_cpu_j"),  # the gate's per-scope energy
        ("energy_gpu_j", "bench_energy_gpu_j"),
        ("energy_ram_j", "bench_energy_ram_j"),
        ("repeat.energy_per_prediction_j", "repeat_energy_per_prediction_j"),  # the gate's per-repeat series
        ("repeat.accuracy", "repeat_accuracy"),
        ("phase.decode.energy_j", "phase_decode.energy_j"),  # the gate's per-phase figures
        ("top:1", "top_1"),  # characters MLflow refuses
        ("acc@k", "acc_k"),
        ("/abs", "abs"),
        ("a//b", "a/b"),
        ("a/", "a"),
        ("../up", "up"),
        ("x" * 251, "x" * 250),
        ("", None),
        (".", None),
    ],
)
def test_names_in_the_gates_namespace_or_refused_by_mlflow_are_a_benchmark_error(name: str, rename: str | None) -> None:
    with pytest.raises(BenchmarkError) as info:
        parse_metrics(json.dumps({name: 1.0}))
    error = info.value
    assert error.exit_code == 3 and repr(name)[:100] in error.message and len(error.render()) < 1_000
    if rename is not None:
        assert error.hint is not None and repr(rename) in error.hint


@pytest.mark.parametrize("name", ["eval/accuracy", "top-1 acc", "f1.macro", "précision", "energy_saved_j", "repeats"])
def test_names_mlflow_takes_are_kept(name: str) -> None:
    assert parse_metrics(json.dumps({name: 0.5})).quality == {name: 0.5}


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 100_000 + "1" + "}" * 100_000])
def test_deeply_nested_json_is_a_benchmark_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(BenchmarkError):
        parse_metrics(text)


def test_a_metrics_file_over_the_size_limit_is_refused_and_says_the_limit() -> None:
    text = json.dumps({"predictions": 10, "padding": 1.0, "x": ["y" * (2 * 1024 * 1024)]})
    with pytest.raises(BenchmarkError) as info:
        parse_metrics(text)
    assert "1 MiB" in info.value.message


def test_a_key_written_twice_is_refused() -> None:
    with pytest.raises(BenchmarkError) as info:
        parse_metrics('{"accuracy": 0.1, "accuracy": 0.9}')
    assert "'accuracy'" in info.value.message and "twice" in info.value.message


def test_a_huge_metrics_file_is_not_read_whole(tmp_path: Path) -> None:
    script = "import os\nwith open(os.environ['GREEN_GATE_METRICS'], 'w') as f:\n    f.write('x' * (8 * 1024 * 1024))\n"
    result, _ = run(script, tmp_path)
    assert result.metrics_text is not None and len(result.metrics_text) <= 1024 * 1024 + 1
    with pytest.raises(BenchmarkError):
        parse_metrics(result.metrics_text)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        ("os.mkfifo(path)", "a FIFO"),
        ("os.mkdir(path)", "a folder"),
        ("os.symlink('/dev/zero', path)", "a device"),
    ],
)
def test_a_metrics_path_that_is_not_a_regular_file_is_refused_without_waiting(
    tmp_path: Path, make: str, kind: str
) -> None:
    script = f"import os\npath = os.environ['GREEN_GATE_METRICS']\n{make}\n"
    outcome: list[BaseException | Execution] = []

    def target() -> None:
        try:
            outcome.append(run(script, tmp_path)[0])
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    # In a thread, so that a read that blocks (a FIFO without a writer) fails the test, not hangs it.
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the gate waits on the metrics path after the benchmark ended"
    (error,) = outcome
    assert isinstance(error, BenchmarkError) and error.exit_code == 3
    assert error.message == f"$GREEN_GATE_METRICS is {kind}, not a regular file: the gate reads only a regular file"


def test_the_count_is_read_under_the_plural_of_the_unit_or_as_predictions() -> None:
    assert parse_metrics('{"tokens": 81920, "accuracy": 0.9}', count_key="tokens").predictions == 81920
    assert parse_metrics('{"predictions": 64}', count_key="tokens").predictions == 64
    tokens_as_quality = parse_metrics('{"tokens": 5}')  # no unit named: tokens is just another metric
    assert tokens_as_quality.predictions is None and tokens_as_quality.quality == {"tokens": 5.0}
    with pytest.raises(BenchmarkError, match="holds both 'tokens' and 'predictions'"):
        parse_metrics('{"tokens": 5, "predictions": 5}', count_key="tokens")
    with pytest.raises(BenchmarkError, match="'tokens' in \\$GREEN_GATE_METRICS must be a positive whole number"):
        parse_metrics('{"tokens": 0.5}', count_key="tokens")
