"""The run schema, baseline rules and history renderings: plain data, no MLflow."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from gate.carbon.model import Intensity
from gate.compare import baseline_rules
from gate.energy.model import PhaseSummary, ScopeSummary
from gate.retry import RetryPolicy
from gate.tracking import filters, schema
from gate.tracking.credentials import describe_uri, redact
from gate.tracking.history import HistoryRow, only_commits, render_csv, render_json, render_table
from gate.tracking.mlflow_errors import retry_policy
from gate.tracking.schema import Pin, RunFacts, RunIdentity, RunRecord
from tests.helpers import summary
from tests.support.golden import check_golden


def facts(**overrides: object) -> RunFacts:
    base: dict[str, object] = dict(
        verdict="pass",
        baseline_eligible=True,
        hardware={"cpu_model": "AMD EPYC", "cpu_count": 2, "gpu_models": [], "fingerprint": "ff2ecbfdf6e1"},
        command="python bench.py",
        kind="inference",
        repeats=3,
        warmup=1,
        timeout_s=600.0,
        budget_file="green-budget.yml",
        budget_sha256=schema.budget_sha256(b"version: 1\n"),
        gate_version="0.1.0",
    )
    base.update(overrides)
    return RunFacts(**base)  # type: ignore[arg-type]


def build(identity: RunIdentity, **fact_overrides: object) -> RunRecord:
    return schema.build_run_record(
        result_id="r" * 32,
        experiment="green-gate/acme/models/digits",
        identity=identity,
        facts=facts(**fact_overrides),
        summary=summary([10.0, 12.0, 11.0]),
        start_time_ms=1_000,
        end_time_ms=2_000,
    )


def test_a_branch_run_carries_standard_and_gate_tags() -> None:
    rec = build(RunIdentity("digits", "acme/models", "9f2c4e1d0b7a" + "0" * 28, "main", event_name="push"))
    assert rec.run_name == "9f2c4e1 main digits pass 11 mJ/pred"
    assert rec.tags[schema.TAG_GIT_COMMIT] == "9f2c4e1d0b7a" + "0" * 28
    assert rec.tags[schema.TAG_GIT_BRANCH] == "main"
    assert rec.tags[schema.TAG_SOURCE_NAME] == "acme/models"
    assert rec.tags[schema.TAG_GIT_REPO_URL] == "https://github.com/acme/models"
    assert rec.tags[schema.TAG_ELIGIBLE] == "true" and rec.tags[schema.TAG_VERDICT] == "pass"
    assert rec.tags[schema.TAG_HARDWARE] == "ff2ecbfdf6e1"
    assert rec.tags[schema.TAG_PROVENANCE] == "estimated"
    assert rec.tags[schema.TAG_RESULT_ID] == "r" * 32
    context = schema.decode_context(rec.tags)
    assert context["hardware"]["cpu_model"] == "AMD EPYC"
    assert context["budget_sha256"] == schema.budget_sha256(b"version: 1\n")
    assert context["scopes"]["cpu"] == {"provenance": "estimated", "method": "TDP x load", "gated": True}
    assert context["event"] == "push"
    assert schema.TAG_PR not in rec.tags
    centre = (10.0 * 12.0 * 11.0) ** (1 / 3)  # the run's figure: the geometric mean of its repeats
    assert rec.metrics["energy_j"] == pytest.approx(centre, rel=1e-12)
    assert rec.metrics["energy_cpu_j"] == pytest.approx(centre / 4, rel=1e-12)
    assert rec.series["repeat.energy_j"] == (10.0, 12.0, 11.0)
    assert rec.params == {"command": "python bench.py", "repeats": "3", "gate_version": "0.1.0"}
    assert (context["kind"], context["warmup"], context["timeout_s"]) == ("inference", 1, 600.0)
    assert context["budget_file"] == "green-budget.yml"


def test_a_ci_run_is_few_rows_and_nothing_is_logged_twice() -> None:
    """Every tag, param and latest metric is a row MLflow loads for each run a search returns: a PR run
    with GPU, CPU, RAM and a carbon source stays within 35, and no value is logged under two names."""
    intensity = Intensity(369.5, "codecarbon offline data", zone="USA", pue=1.1, provider="codecarbon")
    s = summary([10.0, 12.0, 11.0], quality={"accuracy": 0.97}, intensity=intensity)
    s = replace(s, scopes=(ScopeSummary("gpu", 8.0, "measured", "nvml counter"), *s.scopes))
    identity = RunIdentity(
        "digits", "acme/models", "c" * 40, "feat/x", base_branch="main", pr_number=7, event_name="pull_request",
        ci_run_url="https://github.com/acme/models/actions/runs/1",
    )  # fmt: skip
    rec = schema.build_run_record(
        result_id="r" * 32,
        experiment="e",
        identity=identity,
        facts=facts(baseline_run_id="b" * 32, baseline_eligible=False, extra_tags={schema.TAG_COMPARISON: "history"}),
        summary=s,
        start_time_ms=0,
        end_time_ms=1,
    )
    rows = len(rec.tags) + 1 + len(rec.params) + len(rec.metrics) + len(rec.series)  # + mlflow.runName
    assert rows <= 35, (len(rec.tags), len(rec.params), len(rec.metrics), len(rec.series))
    values = [v for v in rec.tags.values() if len(v) > 6] + [v for v in rec.params.values() if len(v) > 6]
    assert len(values) == len(set(values)), sorted(values)
    assert set(rec.series) == {"repeat.energy_j", "repeat.duration_s", "repeat.energy_per_prediction_j"}
    assert schema.decode_context(rec.tags)["intensity"] == {
        "g_per_kwh": 369.5, "pue": 1.1, "source": "codecarbon offline data", "provider": "codecarbon",
        "basis": "fixed", "zone": "USA",
    }  # fmt: skip


def test_series_left_out_are_derived_exactly_on_read() -> None:
    full = summary([10.0, 12.0, 11.0, 13.0], intensity=Intensity(400.0, "fixed value", pue=1.2))
    rec = schema.build_run_record(
        result_id="r", experiment="e", identity=RunIdentity("d", None, None, "main"), facts=facts(), summary=full,
        start_time_ms=0, end_time_ms=1,
    )  # fmt: skip
    assert len(rec.series) < len(full.per_repeat)
    logged = {key.removeprefix(schema.SERIES_PREFIX): values for key, values in rec.series.items()}
    read_back = schema.complete_series(logged, rec.metrics)
    assert set(read_back) == set(full.per_repeat)
    for name, values in full.per_repeat.items():
        assert read_back[name] == pytest.approx(values, rel=1e-12), name


def test_complete_series_keeps_what_was_logged_and_needs_energy() -> None:
    assert schema.complete_series({}, {"energy_kwh": 1.0}) == {}
    logged = {"energy_j": (1.0, 3.0), "energy_kwh": (9.0, 9.0)}
    assert schema.complete_series(logged, {"energy_j": 2.0, "energy_kwh": 5.0})["energy_kwh"] == (9.0, 9.0)
    assert schema.complete_series({"energy_j": (1.0, 3.0), "duration_s": (0.5, 0.0)}, {})["mean_power_w"] == (2.0, 0.0)


def test_context_fits_an_mlflow_tag_without_being_cut() -> None:
    gpus = [{"name": "NVIDIA H100 80GB HBM3", "uuid": f"GPU-{i:032x}"} for i in range(200)]
    context = {"hardware": {"fingerprint": "hw1", "gpus": gpus}, "intensity": {"fallback": ["x" * 400] * 30}}
    text = schema.encode_context(context)
    assert len(text) <= schema.MAX_TAG_VALUE_CHARS
    decoded = schema.decode_context({schema.TAG_CONTEXT: text})
    assert decoded["hardware"] == {"fingerprint": "hw1", "truncated": True}
    assert decoded["intensity"]["fallback"] == ["(left out: too long for an MLflow tag)"]
    small = {"hardware": {"fingerprint": "hw1"}, "intensity": {"fallback": ["a: down"]}}
    assert schema.decode_context({schema.TAG_CONTEXT: schema.encode_context(small)}) == small


def test_context_of_runs_from_the_first_schema_and_of_foreign_runs() -> None:
    legacy = {schema.LEGACY_TAG_HARDWARE_JSON: '{"fingerprint": "hw0", "cpu_model": "x"}'}
    assert schema.decode_context(legacy) == {"hardware": {"fingerprint": "hw0", "cpu_model": "x"}}
    assert schema.decode_context({}) == {}
    assert schema.decode_context({schema.TAG_CONTEXT: "not json"}) == {}
    assert schema.decode_context({schema.TAG_CONTEXT: "[1, 2]"}) == {}


def test_a_pr_run_is_named_by_its_pr_and_keeps_its_base_branch() -> None:
    rec = build(
        RunIdentity("digits", None, None, "feature/x", base_branch="main", pr_number=7),
        baseline_eligible=False,
        baseline_run_id="b" * 32,
    )
    assert rec.run_name == "local PR#7 digits pass 11 mJ/pred"
    assert rec.tags[schema.TAG_PR] == "7" and schema.decode_context(rec.tags)["base_branch"] == "main"
    assert rec.tags[schema.TAG_ELIGIBLE] == "false"
    assert rec.tags[schema.TAG_BASELINE_RUN_ID] == "b" * 32
    assert schema.TAG_GIT_COMMIT not in rec.tags and schema.TAG_GIT_REPO_URL not in rec.tags
    assert rec.tags[schema.TAG_SOURCE_NAME] == "green-gate"
    assert "PR #7" in rec.tags[schema.TAG_NOTE]


def test_records_survive_the_spool_round_trip_and_refuse_unknown_formats() -> None:
    rec = build(RunIdentity("digits", "acme/models", "c" * 40, "main"))
    assert RunRecord.from_dict(json.loads(json.dumps(rec.to_dict()))) == rec
    with pytest.raises(ValueError, match="unsupported run record format 2"):
        RunRecord.from_dict({**rec.to_dict(), "format": 2})


def test_batches_stay_within_mlflow_limits_and_lose_nothing() -> None:
    rec = build(RunIdentity("digits", "acme/models", "c" * 40, "main"))
    big = RunRecord(
        **{
            **rec.__dict__,
            "series": {"repeat.energy_j": tuple(float(i) for i in range(2500))},
            "tags": {f"t{i}": "v" for i in range(150)},
        }
    )
    batches = schema.batches(big)
    assert all(len(b.metrics) <= 1000 and len(b.params) + len(b.tags) <= 100 for b in batches)
    assert sum(len(b.metrics) for b in batches) == len(big.metrics) + 2500
    assert sum(len(b.tags) for b in batches) == 150 and sum(len(b.params) for b in batches) == len(big.params)
    steps = sorted(step for b in batches for key, _, _, step in b.metrics if key == "repeat.energy_j")
    assert steps == list(range(2500))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/models.git", "acme/models"),
        ("git@github.com:acme/models.git", "acme/models"),
        ("https://x-access-token:ghs_abc@github.com/acme/models", "acme/models"),
        ("ssh://git@gitlab.example.com:2222/team/proj", "team/proj"),
        ("/srv/git/bare", "git/bare"),
        ("", None),
        (None, None),
    ],
)
def test_repository_from_remote(url: str | None, expected: str | None) -> None:
    assert schema.repository_from_remote(url) == expected


def test_experiment_names_filters_and_pin_keys() -> None:
    assert (
        schema.experiment_name("green-gate/{repository}/{benchmark}", "digits", "acme/m") == "green-gate/acme/m/digits"
    )
    assert schema.experiment_name("green-gate/{repository}/{benchmark}", "digits", None) == "green-gate/local/digits"
    assert filters.baseline_filter("it's", "hw") == (
        "tags.`mlflow.source.git.branch` = 'it\\'s' AND tags.`green_gate.hardware_id` = 'hw' "
        "AND tags.`green_gate.baseline_eligible` = 'true' AND attributes.status = 'FINISHED'"
    )
    assert filters.history_filter(branch=None) == ""
    assert (
        filters.history_filter(branch="main", since_ms=5)
        == "tags.`mlflow.source.git.branch` = 'main' AND attributes.start_time >= 5"
    )
    assert schema.pin_tag_key("release/1.4") == "green_gate.pin.release/1.4"
    assert schema.pin_tag_key("feat+x@y") == "green_gate.pin.feat_x_y"


def test_pins_encode_and_decode_including_a_bare_run_id_set_by_hand() -> None:
    pin = Pin("a" * 32, pinned_by="rm", pinned_at="2026-11-23T10:00:00Z", note="v1.4")
    assert Pin.decode(pin.encode()) == pin
    assert Pin.decode("b" * 32) == Pin("b" * 32)
    assert Pin.decode('{"note": "no run"}') is None


def test_baseline_rules_order_command_line_budget_pin_latest() -> None:
    pin = Pin("p" * 32, pinned_by="rm")
    cli = baseline_rules.choose(branch="main", cli_run_id="c", budget_run_id="b", pin=pin)
    assert (cli.source, cli.run_id, cli.ignored_pin) == ("command line", "c", pin)
    budget = baseline_rules.choose(branch="main", cli_run_id=None, budget_run_id="b", pin=pin)
    assert (budget.source, budget.run_id) == ("budget file", "b")
    pinned = baseline_rules.choose(branch="main", cli_run_id=None, budget_run_id=None, pin=pin)
    assert (pinned.source, pinned.run_id, pinned.reason) == (
        "pin",
        "p" * 32,
        "pinned for `main` with `green-gate baseline pin` by rm",
    )
    latest = baseline_rules.choose(branch="release/1.4", cli_run_id=None, budget_run_id=None, pin=None)
    assert (latest.source, latest.run_id) == ("latest", None)
    assert "latest run on `release/1.4` that passed its budget" in latest.reason


@pytest.mark.parametrize(
    ("budget_branch", "base", "default", "branch", "expected"),
    [
        ("release/base", "main", "trunk", "release/1.4", "release/base"),
        (None, "main", "trunk", "feat", "main"),
        # Outside a PR a feature branch compares against the repository's default branch, not itself.
        (None, None, "main", "feature/more-trees", "main"),
        (None, None, None, "dev", "dev"),  # nothing tells the default branch (no git, no CI)
        (None, None, None, None, "main"),
    ],
)
def test_baseline_branch(
    budget_branch: str | None, base: str | None, default: str | None, branch: str | None, expected: str
) -> None:
    assert baseline_rules.baseline_branch(budget_branch, base, default, branch) == expected


@pytest.mark.parametrize(
    ("branch", "baseline_branch", "eligible"),
    [("main", "main", True), ("feature/more-trees", "main", False), (None, "main", False)],
)
def test_only_runs_of_the_baseline_branch_may_be_baselines(
    branch: str | None, baseline_branch: str, eligible: bool
) -> None:
    assert baseline_rules.may_be_baseline(branch, baseline_branch) is eligible


def test_credentials_never_appear_in_messages() -> None:
    env = {"MLFLOW_TRACKING_TOKEN": "tok-123456", "MLFLOW_TRACKING_PASSWORD": "pw-abcdef"}
    text = "GET https://u:p@mlflow.example/api failed; Authorization: Bearer tok-123456; pw-abcdef rejected"
    assert redact(text, env) == "GET https://***@mlflow.example/api failed; Authorization: Bearer ***; *** rejected"
    assert redact('{"token": "abc123xyz"}', {}) == '{"token": "***"}'
    assert describe_uri("https://user:pass@host:5000/path") == "https://***@host:5000/path"
    assert describe_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_retry_policy_backs_off_exponentially_and_is_bounded() -> None:
    assert RetryPolicy(attempts=4, backoff_s=0.5, max_backoff_s=1.5).delays_s() == (0.5, 1.0, 1.5)
    assert retry_policy({"GREEN_GATE_MLFLOW_ATTEMPTS": "99"}).attempts == 10
    assert retry_policy({}).delays_s() == (0.5, 1.0)


ROWS = [
    HistoryRow(
        "2" * 32, "bbbbbbb main digits", 1_763_900_000_000, "FINISHED", "b" * 40, "main", None, "pass", True,
        "estimated", "ff2ecbfdf6e1", {"energy_per_prediction_j": 0.00123456, "energy_j": 12.5, "duration_s": 3.0},
    ),
    HistoryRow(
        "1" * 32, "aaaaaaa PR#7 digits", 1_763_800_000_000, "FINISHED", "a" * 40, "feature/x", 7, "fail", False,
        "measured", "ff2ecbfdf6e1", {"energy_per_prediction_j": 0.0015, "accuracy": 0.97},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "render"),
    [("history_table.txt", render_table), ("history.csv", render_csv), ("history.json", render_json)],
)
def test_history_renderings_match_golden_files(name: str, render: Callable[[list[HistoryRow]], str]) -> None:
    check_golden(name, render(ROWS))


def test_history_by_commit_prefix() -> None:
    assert [r.run_id for r in only_commits(ROWS, ["aaaaaaa"])] == ["1" * 32]
    assert only_commits(ROWS, []) == []


def test_run_names_read_verdict_and_energy_per_prediction_at_a_glance() -> None:
    identity = RunIdentity("digits", None, "5935782" + "0" * 33, "feature")
    assert schema.run_name(identity, "fail", 0.001234) == "5935782 feature digits fail 1.23 mJ/pred"
    assert schema.run_name(identity, "warn", 2.5) == "5935782 feature digits warn 2.5 J/pred"
    assert schema.run_name(identity, "pass", None) == "5935782 feature digits pass"
    assert schema.run_name(identity, "pass", 0.0021, "token") == "5935782 feature digits pass 2.1 mJ/token"
    assert schema.run_name(identity, "error", float("nan")) == "5935782 feature digits error"
    assert schema.run_name(identity) == "5935782 feature digits"


def test_experiments_open_on_their_runs_and_describe_their_columns_and_baselines() -> None:
    tags = schema.experiment_tags()
    assert tags[schema.TAG_EXPERIMENT_KIND] == "custom_model_development"
    description = tags[schema.TAG_NOTE]
    for column in ("energy_per_prediction_j", schema.TAG_VERDICT, schema.TAG_ELIGIBLE, schema.TAG_HARDWARE):
        assert column in description
    assert "Baselines" in description and schema.PIN_TAG_PREFIX in description


def test_the_unit_is_a_tag_and_the_per_item_metric_keeps_its_name() -> None:
    tokens = build(RunIdentity("llm", "acme/models", "9" * 40, "main"), unit="token")
    default = build(RunIdentity("llm", "acme/models", "9" * 40, "main"))
    assert tokens.tags[schema.TAG_UNIT] == "token" and default.tags[schema.TAG_UNIT] == "prediction"
    assert "energy_per_prediction_j" in tokens.metrics and set(tokens.metrics) == set(default.metrics)


def test_each_measured_phase_is_logged_under_its_name_made_safe_and_clashing_names_are_left_out() -> None:
    phases = (
        PhaseSummary("prefill", 40.0, 1.0, 1024, 40.0 / 1024),
        PhaseSummary("decode", 60.0, 3.0, None, None),
        PhaseSummary("test_parse[small]", 2.0, 1.0, 4, 0.5),  # pytest's parametrised case: MLflow refuses []
        PhaseSummary("a/b", 1.0, 1.0, 1, 1.0),  # a path separator would nest it under another key
        PhaseSummary("top:1", 1.0, 1.0, 1, 1.0),  # MLflow refuses ':' ...
        PhaseSummary("top;1", 1.0, 1.0, 1, 1.0),  # ... and ';': both would be phase.top_1, so neither is
    )
    rec = schema.build_run_record(
        result_id="r" * 32,
        experiment="e",
        identity=RunIdentity("digits", "acme/models", None, "main"),
        facts=facts(),
        summary=replace(summary([100.0]), phases=phases),
        start_time_ms=1_000,
        end_time_ms=2_000,
    )
    logged = {k: v for k, v in rec.metrics.items() if k.startswith(schema.PHASE_PREFIX)}
    assert logged == {
        "phase.prefill.energy_j": 40.0,
        "phase.prefill.energy_per_item_j": pytest.approx(40.0 / 1024),
        "phase.decode.energy_j": 60.0,  # no items counted: no J per item
        "phase.test_parse_small_.energy_j": 2.0,
        "phase.test_parse_small_.energy_per_item_j": 0.5,
        "phase.a_b.energy_j": 1.0,
        "phase.a_b.energy_per_item_j": 1.0,
    }
    assert not any(k.startswith(schema.SERIES_PREFIX + schema.PHASE_PREFIX) for k in rec.series)


def test_the_gpu_engines_calibration_and_staleness_are_logged_and_kept_in_the_context() -> None:
    from dataclasses import replace

    from gate.energy.model import ScopeSummary

    base = summary([10.0, 12.0, 11.0])
    gpu = ScopeSummary("gpu", 11.0, "measured", "2 GPUs", calibration=(1.004, 0.93), counter_staleness_s=(0.14, 0.16))
    rec = schema.build_run_record(
        result_id="r" * 32,
        experiment="e",
        identity=RunIdentity("digits", "acme/models", "a" * 40, "main"),
        facts=facts(),
        summary=replace(base, scopes=(gpu, *base.scopes)),
        start_time_ms=1_000,
        end_time_ms=2_000,
    )
    assert rec.metrics["gpu_calibration_k"] == 0.93  # the GPU farthest from 1
    assert rec.metrics["gpu_counter_staleness_s"] == 0.16
    context = schema.decode_context(rec.tags)
    assert context["scopes"]["gpu"]["calibration"] == [1.004, 0.93]
    assert schema.benchmark_metric_problem("gpu_calibration_k") is not None


def test_the_runner_conditions_are_logged_as_medians_and_read_back_apart_from_the_metrics() -> None:
    from gate.devices.conditions import RepeatConditions

    def repeat(speed: float, pressure: float) -> RepeatConditions:
        return RepeatConditions(
            10.0, pressure, 0.0, None, 0.0, 40.0, 1.0, 2.5, speed, speed, speed, 0.9, 3, 2, spin_wait_suspected=False
        )

    run = replace(summary([10.0, 12.0, 11.0]), conditions=(repeat(1200, 5), repeat(1300, 90), repeat(1250, 10)))
    metrics = schema.condition_metrics(run)
    assert metrics["conditions.speed_index"] == 1250.0
    assert metrics["conditions.cpu_pressure_some_pct"] == 10.0
    assert "conditions.cgroup_cpu_pressure_some_pct" not in metrics  # unread on every repeat
    rest, read_back = schema.split_conditions({"energy_j": 11.0, **metrics})
    assert rest == {"energy_j": 11.0}
    assert read_back["speed_index"] == 1250.0 and read_back["threads_max"] == 3.0
    assert schema.benchmark_metric_problem("conditions.mine") is not None
    assert schema.benchmark_metric_rename("conditions.mine") == "conditions_mine"
    assert schema.condition_metrics(summary([1.0])) == {}
