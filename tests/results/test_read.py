"""Finding a repeat's results file, and refusing a missing, stale or incomplete one."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from gate.config.budget import ResultsSpec
from gate.errors import BenchmarkError
from gate.results.read import read_repeat

DATA = Path(__file__).resolve().parents[1] / "data" / "results"


def _write(path: Path, text: str, *, age_s: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if age_s:
        stamp = time.time() - age_s
        os.utime(path, (stamp, stamp))
    return path


def test_repeat_number_fills_the_path_and_the_chosen_count_and_quality_are_read(tmp_path: Path) -> None:
    started = time.time()
    shutil.copy(DATA / "vllm-serve-result.json", tmp_path / "serve-2.json")
    spec = ResultsSpec("vllm-bench", "serve-{repeat}.json", "output_tokens", (("ttft_ms", "mean_ttft_ms"),))
    counts = read_repeat(spec, cwd=tmp_path, repeat=2, started_wall_s=started, output=())
    assert counts.count == 106724
    assert counts.quality == {"ttft_ms": pytest.approx(59.7957, rel=1e-5)}
    assert counts.source == str(tmp_path / "serve-2.json")


def test_default_count_is_the_formats_first(tmp_path: Path) -> None:
    started = time.time()
    shutil.copy(DATA / "lm-eval-results.json", tmp_path / "r.json")
    counts = read_repeat(ResultsSpec("lm-eval", "r.json"), cwd=tmp_path, repeat=1, started_wall_s=started, output=())
    assert counts.count == 30


def test_missing_file_names_the_path_and_the_repeat(tmp_path: Path) -> None:
    spec = ResultsSpec("pytest-benchmark", "out/{repeat}.json")
    with pytest.raises(BenchmarkError, match=r"results file is missing.*'out/3\.json' in repeat 3") as caught:
        read_repeat(spec, cwd=tmp_path, repeat=3, started_wall_s=time.time(), output=())
    assert caught.value.file == str(tmp_path / "out/3.json")


def test_file_older_than_the_repeat_is_stale(tmp_path: Path) -> None:
    _write(tmp_path / "bench.json", (DATA / "vllm-serve-result.json").read_text(), age_s=30)
    spec = ResultsSpec("vllm-bench", "bench.json")
    with pytest.raises(BenchmarkError, match=r"stale: last written 3\d s before repeat 1 started") as caught:
        read_repeat(spec, cwd=tmp_path, repeat=1, started_wall_s=time.time(), output=())
    assert caught.value.file == str(tmp_path / "bench.json")


def test_glob_reads_the_newest_fresh_match(tmp_path: Path) -> None:
    started = time.time()
    _write(tmp_path / "out/model-a/results_old.json", '{"results": {}}', age_s=60)
    shutil.copytree(DATA, tmp_path / "out/model-b", dirs_exist_ok=True)
    (tmp_path / "out/model-b/results_2026.json").write_text((DATA / "lm-eval-results.json").read_text())
    spec = ResultsSpec("lm-eval", "out/**/results_*.json", "samples", (("acc", "arc_easy/acc,none"),))
    counts = read_repeat(spec, cwd=tmp_path, repeat=1, started_wall_s=started, output=())
    assert (counts.count, counts.quality, counts.source) == (
        30,
        {"acc": 0.3},
        str(tmp_path / "out/model-b/results_2026.json"),
    )


def test_loadgen_path_may_name_its_log_folder(tmp_path: Path) -> None:
    started = time.time()
    log = ':::MLLOG {"key": "result_validity", "value": "VALID"}\n'
    log += ':::MLLOG {"key": "effective_samples_per_query", "value": 1}\n'
    log += ':::MLLOG {"key": "result_query_count", "value": 1024}\n'
    _write(tmp_path / "logs/1/mlperf_log_detail.txt", log)
    counts = read_repeat(
        ResultsSpec("mlperf-loadgen", "logs/{repeat}"), cwd=tmp_path, repeat=1, started_wall_s=started, output=()
    )
    assert counts.count == 1024


def test_quality_field_the_file_lacks_is_named_with_close_names(tmp_path: Path) -> None:
    started = time.time()
    shutil.copy(DATA / "lm-eval-results.json", tmp_path / "r.json")
    spec = ResultsSpec("lm-eval", "r.json", quality=(("acc", "arc_easy/acc"),))
    with pytest.raises(BenchmarkError, match=r"field 'arc_easy/acc' is missing.*close: arc_easy/acc,none"):
        read_repeat(spec, cwd=tmp_path, repeat=1, started_wall_s=started, output=())


def test_json_pointers_read_count_and_quality(tmp_path: Path) -> None:
    started = time.time()
    _write(tmp_path / "report.json", json.dumps({"summary": {"images": 512, "metrics": {"top1": 0.76}, "a/b": 3}}))
    spec = ResultsSpec(
        "json", "report.json", "/summary/images", (("top1", "/summary/metrics/top1"), ("ab", "/summary/a~1b"))
    )
    counts = read_repeat(spec, cwd=tmp_path, repeat=1, started_wall_s=started, output=())
    assert (counts.count, counts.quality) == (512, {"top1": 0.76, "ab": 3})


def test_json_pointer_to_nothing_names_where_it_stopped(tmp_path: Path) -> None:
    started = time.time()
    _write(tmp_path / "report.json", '{"summary": {"images": 512}}')
    spec = ResultsSpec("json", "report.json", "/summary/count")
    with pytest.raises(BenchmarkError, match="field '/summary/count' is missing"):
        read_repeat(spec, cwd=tmp_path, repeat=1, started_wall_s=started, output=())


def test_zero_count_is_refused_never_a_free_run(tmp_path: Path) -> None:
    started = time.time()
    _write(tmp_path / "report.json", '{"n": 0}')
    with pytest.raises(BenchmarkError, match="field '/n' is 0: the repeat did no work"):
        read_repeat(ResultsSpec("json", "report.json", "/n"), cwd=tmp_path, repeat=1, started_wall_s=started, output=())


def test_stdout_patterns_take_the_last_match(tmp_path: Path) -> None:
    output = ("requests completed: 10", "p99 latency: 9.5 ms", "requests completed: 1,000", "p99 latency: 12.25 ms")
    spec = ResultsSpec("stdout", None, r"requests completed: ([\d,]+)", (("p99_ms", r"p99 latency: ([0-9.]+) ms"),))
    counts = read_repeat(spec, cwd=tmp_path, repeat=1, started_wall_s=time.time(), output=output)
    assert (counts.count, counts.quality) == (1000, {"p99_ms": 12.25})


def test_stdout_pattern_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    spec = ResultsSpec("stdout", None, r"tokens: (\d+)")
    with pytest.raises(BenchmarkError, match=r"count: the pattern 'tokens: \(\\\\d\+\)' matches nothing in the last 1"):
        read_repeat(spec, cwd=tmp_path, repeat=1, started_wall_s=time.time(), output=("done",))
