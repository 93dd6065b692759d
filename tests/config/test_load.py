"""Loading green-budget.yml: valid files resolve to rules; bad ones fail with file, line and key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gate.config.budget import Level, SourceSpec
from gate.config.load import load_budget, load_schema, parse_budget
from gate.errors import ConfigError, ExitCode

MINIMAL = """\
version: 1
benchmarks:
  - name: bench
    command: python bench.py
"""

FULL = """\
version: 1
benchmarks:
  - name: infer
    command: [python, bench.py, --fast]
    kind: inference
    repeats: 7
    warmup: 2
    timeout_s: 30
    working_directory: sub
    env: {SEED: 3, FAST: true}
    limits:
      duration_s: {fail: 10%}
  - name: train
    command: python train.py
    kind: training
limits:
  energy_per_prediction_j: {warn: +2%, fail: +5%}
budgets:
  energy_kwh: 0.5
  emissions_g: {warn: 10, fail: 20}
quality:
  accuracy: {min: 0.9}
  loss: {max: 0.3}
carbon:
  country: fra
  pue: 1.2
baseline:
  branch: main
policy:
  missing_baseline: warn
  mlflow_unavailable: fail
mlflow:
  experiment: team/{benchmark}
branches:
  - match: "release/*"
    limits:
      energy_per_prediction_j: {warn: 1%, fail: 2%}
    baseline:
      branch: release/base
"""


def parse(text: str, name: str = "green-budget.yml") -> object:
    return parse_budget(textwrap.dedent(text), Path(name))


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value


def test_minimal_budget_gets_documented_defaults() -> None:
    budget = parse_budget(MINIMAL, Path("/repo/green-budget.yml"))
    (spec,) = budget.benchmarks
    assert (spec.name, spec.kind, spec.repeats, spec.warmup, spec.timeout_s) == ("bench", "inference", 5, 1, 600.0)
    assert spec.shell_command == "python bench.py" and spec.argv is None
    assert spec.working_directory == Path("/repo")
    assert budget.policy.missing_baseline == "pass" and budget.policy.mlflow_unavailable == "warn"
    assert budget.experiment_template == "green-gate/{repository}/{benchmark}"
    assert budget.carbon.country is None and budget.carbon.intensity_g_per_kwh is None
    assert budget.warnings == ()


def test_full_budget_resolves_rules_per_benchmark() -> None:
    budget = parse_budget(FULL, Path("/repo/green-budget.yml"))
    infer, train = budget.benchmarks
    assert infer.argv == ("python", "bench.py", "--fast")
    assert infer.env == {"SEED": "3", "FAST": "true"}
    assert infer.working_directory == Path("/repo/sub")
    assert (infer.repeats, infer.warmup, infer.timeout_s, train.kind) == (7, 2, 30.0, "training")
    # top-level limits apply to both; the benchmark's own limits add to them
    assert infer.rules.limits_pct["energy_per_prediction_j"] == Level(warn=2.0, fail=5.0, line=17)
    assert infer.rules.limits_pct["duration_s"].fail == 10.0
    assert "duration_s" not in train.rules.limits_pct
    assert train.rules.budgets["energy_kwh"] == Level(fail=0.5, line=19)
    assert train.rules.budgets["emissions_g"] == Level(warn=10, fail=20, line=20)
    assert train.rules.quality_min == {"accuracy": (0.9, 22)}
    assert train.rules.quality_max == {"loss": (0.3, 23)}
    assert budget.carbon.country == "FRA" and budget.carbon.pue == 1.2
    assert budget.policy.mlflow_unavailable == "fail"
    assert budget.experiment_template == "team/{benchmark}"


def test_branch_override_applies_only_to_matching_branches() -> None:
    budget = parse_budget(FULL, Path("green-budget.yml"))
    infer = budget.benchmarks[0]
    rules, baseline = budget.for_branch(infer, "release/2.1")
    assert rules.limits_pct["energy_per_prediction_j"] == Level(warn=1.0, fail=2.0, line=37)
    assert rules.limits_pct["duration_s"].fail == 10.0  # not overridden: kept
    assert baseline.branch == "release/base"
    rules, baseline = budget.for_branch(infer, "feature/x")
    assert rules.limits_pct["energy_per_prediction_j"].fail == 5.0
    assert baseline.branch == "main"


def test_yaml_syntax_error_names_the_line() -> None:
    error = error_of("version: 1\nbenchmarks:\n  - name: a\n    command: [unclosed\n")
    assert error.exit_code == ExitCode.USAGE
    assert error.file == "green-budget.yml"
    assert error.line == 4  # where the `[` that is never closed opens, not the end of the file YAML reached
    assert "not valid YAML" in error.message


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ('    command: "python b.py\n    kind: inference\n\n# note\n', 4, "quoted scalar"),
        ("limits:\n  energy_j: {warn: +2%, fail: +5%\n\n# note\npolicy: {}\n", 6, "flow mapping"),
        ("    command: [python, b.py\n    kind: inference\n", 4, "flow sequence"),
    ],
)
def test_an_unclosed_yaml_construct_is_reported_where_it_starts(text: str, line: int, what: str) -> None:
    head = "version: 1\nbenchmarks:\n  - name: a\n"
    error = error_of(head + text if text.startswith("    ") else MINIMAL + text)
    assert error.line == line
    assert f"the {what} that starts here is not closed" in error.message


def test_a_misplaced_key_is_reported_on_its_own_line() -> None:
    error = error_of("version: 1\nbenchmarks:\n  - name: a\n    command: python b.py\n   kind: inference\n")
    assert error.line == 5 and "not valid YAML" in error.message


def test_wrong_type_names_key_path_and_line() -> None:
    error = error_of(MINIMAL + "    repeats: many\n")
    assert error.line == 5
    assert "benchmarks[0].repeats" in error.message
    assert "expected a whole number, got str 'many'" in error.message
    assert error.hint and "https://github.com/green-gate/green-gate#budget-reference" in error.hint
    assert "README.md" not in error.hint  # not installed with the package
    assert error.render().startswith("green-budget.yml:5: at benchmarks[0].repeats")


def test_bad_percentage_is_explained() -> None:
    error = error_of(MINIMAL + "limits:\n  energy_j: {fail: 5 percent}\n")
    assert error.line == 6
    assert "limits.energy_j.fail" in error.message
    assert "'+5%'" in error.message


def test_unknown_metric_in_limits_is_an_error_not_a_silent_no_op() -> None:
    error = error_of(MINIMAL + "limits:\n  energy_per_sample: {fail: 5%}\n")
    assert error.line == 6
    assert "energy_per_sample" in error.message


def test_missing_required_key() -> None:
    error = error_of("version: 1\nbenchmarks:\n  - name: a\n")
    assert "missing required key 'command'" in error.message
    assert error.line == 3


def test_unsupported_version() -> None:
    error = error_of(MINIMAL.replace("version: 1", "version: 2"))
    assert "unsupported budget file version 2" in error.message
    assert error.line == 1
    assert error.hint and "change that line to 'version: 1'" in error.hint and "add that line" not in error.hint
    missing = error_of(MINIMAL.replace("version: 1\n", ""))
    assert missing.hint and "add that line at the top" in missing.hint


def test_a_misspelt_key_is_an_error_with_its_line_and_the_key_it_resembles() -> None:
    error = error_of(MINIMAL + "limts:\n  energy_j: {fail: +5%}\n")
    assert error.message == "unknown key 'limts'; did you mean 'limits'?"
    assert error.line == 5 and error.file
    assert error.hint and "rename 'limts' to 'limits'" in error.hint and "strict: false" in error.hint
    assert "--lenient" in error.hint
    nested = error_of(MINIMAL + "    repeat: 3\npolicey: {}\n")  # the first of several, with the others named
    assert nested.message == "unknown key 'benchmarks[0].repeat'; did you mean 'repeats'? (and 1 more: 'policey')"
    assert nested.line == 5


def test_unknown_keys_only_warn_when_lenient_or_not_strict() -> None:
    expected = (
        "b.yml:5: unknown key 'benchmarks[0].repeat' is ignored; did you mean 'repeats'?",
        "b.yml:6: unknown key 'policey' is ignored; did you mean 'policy'?",
    )
    budget = parse_budget(MINIMAL + "    repeat: 3\npolicey: {}\n", Path("b.yml"), lenient=True)
    assert budget.warnings == expected
    assert budget.benchmarks[0].repeats == 5
    relaxed = parse_budget(MINIMAL + "    repeat: 3\npolicey: {}\nstrict: false\n", Path("b.yml"))
    assert relaxed.warnings == expected


def test_an_unknown_key_like_no_known_one_warns_for_a_newer_gate() -> None:
    budget = parse_budget(MINIMAL + "telemetry_xyz: {}\n", Path("b.yml"))
    assert budget.warnings == ("b.yml:5: unknown key 'telemetry_xyz' is ignored",)


def test_warn_above_fail_is_rejected() -> None:
    error = error_of(MINIMAL + "limits:\n  energy_j: {warn: 8%, fail: 5%}\n")
    assert "warn (8%) is above fail (5%)" in error.message
    assert error.line == 6


def test_duplicate_key_is_rejected_with_its_line() -> None:
    error = error_of(MINIMAL + "limits: {}\nlimits: {}\n")
    assert "appears twice" in error.message
    assert error.line == 6


def test_duplicate_benchmark_names_are_rejected() -> None:
    error = error_of(MINIMAL + "  - name: bench\n    command: other\n")
    assert "used twice" in error.message and error.line == 5


def test_country_and_fixed_intensity_are_exclusive() -> None:
    error = error_of(MINIMAL + "carbon: {country: FRA, intensity_g_per_kwh: 50}\n")
    assert "both 'country' and 'intensity_g_per_kwh'" in error.message


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_budget(tmp_path / "nope.yml")
    assert info.value.exit_code == ExitCode.USAGE
    assert "not found" in info.value.message


def test_not_a_mapping() -> None:
    error = error_of("- just\n- a list\n")
    assert "must be a mapping" in error.message


def test_example_budget_is_valid() -> None:
    budget = load_budget(Path(__file__).resolve().parents[2] / "examples" / "digits" / "green-budget.yml")
    assert budget.warnings == ()
    assert [b.name for b in budget.benchmarks] == ["digits-svc-inference"]


SOURCES = (
    MINIMAL
    + """\
carbon:
  pue: 1.15
  sources:
    - provider: electricitymaps
      zone: DE
      token_env: EM_TOKEN
      timeout_s: 3
      cache_ttl_s: 600
    - provider: cloud
      cloud: gcp
    - provider: codecarbon
      country: usa
      region: CA
    - provider: fixed
      intensity_g_per_kwh: 400
budgets:
  grid_intensity_g_per_kwh: {warn: 300}
"""
)


def test_carbon_sources_are_read_in_order_with_their_lines() -> None:
    budget = parse_budget(SOURCES, Path("green-budget.yml"))
    em, cloud, country, fixed = budget.carbon.sources
    assert (em.provider, em.zone, em.token_env, em.timeout_s, em.cache_ttl_s, em.line) == (
        "electricitymaps",
        "DE",
        "EM_TOKEN",
        3.0,
        600.0,
        8,
    )
    assert (cloud.provider, cloud.cloud, cloud.region, cloud.line) == ("cloud", "gcp", None, 13)
    assert (country.country, country.region) == ("USA", "CA")
    assert (fixed.provider, fixed.intensity_g_per_kwh) == ("fixed", 400.0)
    assert budget.carbon.pue == 1.15
    assert budget.benchmarks[0].rules.budgets["grid_intensity_g_per_kwh"] == Level(warn=300, line=21)


def test_electricitymaps_defaults() -> None:
    budget = parse(MINIMAL + "carbon:\n  sources:\n    - {provider: electricitymaps, zone: FR}\n")
    (em,) = budget.carbon.sources  # type: ignore[attr-defined]
    assert (em.token_env, em.timeout_s, em.cache_ttl_s) == ("ELECTRICITYMAPS_API_TOKEN", 5.0, 900.0)


@pytest.mark.parametrize(
    ("carbon", "source"),
    [
        ("{country: fra}", SourceSpec("codecarbon", country="FRA", line=5)),
        ("{intensity_g_per_kwh: 56}", SourceSpec("fixed", intensity_g_per_kwh=56.0, line=5)),
    ],
)
def test_short_forms_are_one_source_chains(carbon: str, source: SourceSpec) -> None:
    budget = parse(MINIMAL + f"carbon: {carbon}\n")
    assert budget.carbon.sources == (source,)  # type: ignore[attr-defined]


def test_a_token_in_the_budget_file_is_refused() -> None:
    error = error_of(
        MINIMAL + "carbon:\n  sources:\n    - provider: electricitymaps\n      zone: DE\n      token: abc\n"
    )
    assert "an API token must never be written in the budget file" in error.message
    assert error.line == 9
    assert error.hint and "token_env" in error.hint and "revoke" in error.hint


def test_provider_needs_its_own_keys() -> None:
    error = error_of(MINIMAL + "carbon:\n  sources:\n    - provider: electricitymaps\n")
    assert error.message == "at carbon.sources[0]: missing required key 'zone'"
    assert error.line == 7
    error = error_of(MINIMAL + "carbon:\n  sources:\n    - {provider: cloud}\n")
    assert "missing required key 'cloud'" in error.message


def test_a_key_of_another_provider_is_an_error_not_ignored() -> None:
    error = error_of(
        MINIMAL + "carbon:\n  sources:\n    - provider: electricitymaps\n      zone: DE\n      country: DEU\n"
    )
    assert error.message == "at carbon.sources[0]: 'country' does not apply to provider 'electricitymaps'"
    assert error.hint == "provider 'electricitymaps' takes: zone, token_env, timeout_s, cache_ttl_s"
    assert error.line == 9


def test_unknown_provider_and_cloud_are_explained() -> None:
    assert (
        "'watttime' is not one of: fixed, codecarbon, cloud, electricitymaps"
        in error_of(MINIMAL + "carbon:\n  sources:\n    - {provider: watttime}\n").message
    )
    assert (
        "'ibm' is not one of: gcp, aws, azure"
        in error_of(MINIMAL + "carbon:\n  sources:\n    - {provider: cloud, cloud: ibm}\n").message
    )


def test_sources_and_a_short_form_are_exclusive() -> None:
    error = error_of(MINIMAL + "carbon:\n  country: FRA\n  sources:\n    - {provider: fixed, intensity_g_per_kwh: 5}\n")
    assert error.message == "carbon: both 'sources' and the short form 'country' are set"
    assert error.line == 6


def test_token_env_must_be_a_variable_name() -> None:
    error = error_of(
        MINIMAL + "carbon:\n  sources:\n    - {provider: electricitymaps, zone: DE, token_env: 'ey.J0k3n'}\n"
    )
    assert "carbon.sources[0].token_env" in error.message


# --- comparison and measurement-hygiene keys --------------------------------------------------


def test_comparison_defaults_are_history_95_percent_keep_outliers() -> None:
    budget = parse_budget(MINIMAL, Path("green-budget.yml"))
    assert (budget.comparison.mode, budget.comparison.confidence) == ("history", 0.95)
    assert (budget.comparison.outliers, budget.comparison.outlier_k, budget.comparison.base_ref) == ("keep", 3.5, None)
    assert budget.policy.not_comparable == "warn"
    assert budget.policy.inconclusive == "warn"
    (spec,) = budget.benchmarks
    assert (spec.cooldown_s, spec.max_start_temperature_c) == (0.0, None)


def test_comparison_and_thermal_keys_are_read() -> None:
    text = (
        MINIMAL
        + "    cooldown_s: 15\n    max_start_temperature_c: 55\n"
        + "comparison:\n  mode: auto\n  confidence: 0.99\n  outliers: drop\n  outlier_k: 5\n  base_ref: origin/main\n"
        + "policy:\n  not_comparable: fail\n  inconclusive: pass\n"
    )
    budget = parse_budget(text, Path("green-budget.yml"))
    (spec,) = budget.benchmarks
    assert (spec.cooldown_s, spec.max_start_temperature_c) == (15.0, 55.0)
    assert budget.comparison.mode == "auto" and budget.comparison.confidence == 0.99
    assert (budget.comparison.outliers, budget.comparison.outlier_k) == ("drop", 5.0)
    assert budget.comparison.base_ref == "origin/main"
    assert budget.policy.not_comparable == "fail"
    assert budget.policy.inconclusive == "pass"


@pytest.mark.parametrize(
    ("extra", "line", "words"),
    [
        ("comparison:\n  mode: sometimes\n", 6, "'sometimes' is not one of: history, paired, auto"),
        ("comparison:\n  confidence: 1.5\n", 6, "1.5 is out of range"),
        ("comparison:\n  outliers: hide\n", 6, "'hide' is not one of: keep, drop"),
        ("policy:\n  not_comparable: maybe\n", 6, "'maybe' is not one of: pass, warn, fail"),
        ("policy:\n  inconclusive: maybe\n", 6, "'maybe' is not one of: pass, warn, fail"),
    ],
)
def test_bad_comparison_values_are_explained(extra: str, line: int, words: str) -> None:
    error = error_of(MINIMAL + extra)
    assert error.line == line
    assert words in error.message


def test_negative_cooldown_is_refused() -> None:
    error = error_of(MINIMAL + "    cooldown_s: -1\n")
    assert error.line == 5 and "benchmarks[0].cooldown_s" in error.message


def test_prometheus_block_is_read_and_defaults_to_no_push() -> None:
    assert parse_budget(MINIMAL, Path("green-budget.yml")).prometheus.pushgateway is None
    budget = parse_budget(
        MINIMAL + "prometheus:\n  pushgateway: http://pushgateway:9091\n  job: nightly\n", Path("green-budget.yml")
    )
    assert (budget.prometheus.pushgateway, budget.prometheus.job) == ("http://pushgateway:9091", "nightly")


def test_prometheus_pushgateway_without_a_scheme_names_the_line() -> None:
    error = error_of(MINIMAL + "prometheus:\n  pushgateway: pushgateway:9091\n")
    assert error.line == 6
    assert "prometheus.pushgateway" in error.message


def test_unit_and_relative_quality_rules_are_read_with_their_lines() -> None:
    budget = parse(
        """\
        version: 1
        benchmarks:
          - name: llm
            command: python bench.py
            unit: token
        quality:
          accuracy: {min: 0.9, min_ratio: 0.99, efficiency: {warn: +2%, fail: 5%}}
          loss: {max_ratio: 1.02}
        """
    )
    (spec,) = budget.benchmarks  # type: ignore[attr-defined]
    assert spec.unit == "token"
    assert spec.rules.quality_min == {"accuracy": (0.9, 7)}
    assert spec.rules.quality_min_ratio == {"accuracy": (0.99, 7)}
    assert spec.rules.quality_max_ratio == {"loss": (1.02, 8)}
    assert spec.rules.efficiency_pct == {"accuracy": Level(warn=2.0, fail=5.0, line=7)}
    assert parse_budget(MINIMAL, Path("/repo/green-budget.yml")).benchmarks[0].unit == "prediction"


@pytest.mark.parametrize("unit", ["Tokens", "two words", "", "x" * 41])
def test_a_unit_must_be_one_lower_case_word(unit: str) -> None:
    error = error_of(f"version: 1\nbenchmarks:\n  - name: b\n    command: x\n    unit: '{unit}'\n")
    assert ":5:" in error.render() and "unit" in error.render()


def test_waivers_are_read_with_their_dates_and_lines() -> None:
    budget = parse(
        """\
        version: 1
        benchmarks:
          - {name: b, command: x}
        waivers:
          - label: green-gate/accept-regression
            checks: all
            by: {permission: maintain, logins: [alice], teams: [acme/release]}
            expires: 2026-12-31
        """
    )
    (rule,) = budget.waivers  # type: ignore[attr-defined]
    assert (rule.label, rule.checks, rule.permission, rule.logins, rule.teams) == (
        "green-gate/accept-regression",
        "all",
        "maintain",
        ("alice",),
        ("acme/release",),
    )
    assert (rule.expires.isoformat(), rule.line) == ("2026-12-31", 5)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{label: x, by: {}, expires: 2026-12-31}", "waivers[0].by"),
        ("{label: x, by: {permission: boss}}", "waivers[0].by.permission"),
        ("{label: x, by: {logins: [a]}, expires: 2026-02-30}", "day is out of range for month"),
        ("{label: x, by: {logins: [a]}, expires: '2026-02-30'}", "is not a date"),
    ],
)
def test_a_bad_waiver_names_its_key_and_line(entry: str, message: str) -> None:
    error = error_of(f"version: 1\nbenchmarks:\n  - {{name: b, command: x}}\nwaivers:\n  - {entry}\n")
    assert message in error.render() and ":5" in error.render()


def test_a_timeout_beyond_a_day_is_refused_with_its_line() -> None:
    error = error_of(MINIMAL + "    timeout_s: 86401\n")
    assert error.exit_code == ExitCode.USAGE
    assert error.line == 5
    assert "benchmarks[0].timeout_s" in error.message and "out of range" in error.message
    assert "86400" in error.message


def test_a_timeout_of_a_day_is_accepted() -> None:
    budget = parse_budget(MINIMAL + "    timeout_s: 86400\n", Path("green-budget.yml"))
    assert budget.benchmarks[0].timeout_s == 86400.0


def test_repeats_min_max_are_adaptive_and_a_plain_number_is_not() -> None:
    (adaptive,) = parse_budget(MINIMAL + "    repeats: {min: 3, max: 12}\n", Path("b.yml")).benchmarks
    assert (adaptive.repeats, adaptive.repeats_max, adaptive.adaptive) == (3, 12, True)
    (fixed,) = parse_budget(MINIMAL + "    repeats: 7\n", Path("b.yml")).benchmarks
    assert (fixed.repeats, fixed.repeats_max, fixed.adaptive) == (7, None, False)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("{min: 5, max: 3}", "at benchmarks[0].repeats: min (5) is above max (3)"),
        ("{min: 1, max: 3}", "at benchmarks[0].repeats: min: 1 is out of range"),
        ("{min: 3}", "at benchmarks[0].repeats: missing required key 'max'"),
        ("{min: 3, max: 4.5}", "at benchmarks[0].repeats: max: expected a whole number, got float 4.5"),
    ],
)
def test_bad_adaptive_repeats_name_the_key_and_line(value: str, said: str) -> None:
    error = error_of(MINIMAL + f"    repeats: {value}\n")
    assert error.exit_code == ExitCode.USAGE and error.line == 5 and error.file == "green-budget.yml"
    assert said in error.message


def test_a_wrong_country_code_is_explained_in_words_not_a_regex() -> None:
    error = error_of(MINIMAL + "carbon:\n  country: US\n")
    assert "'US' has the wrong form: expected a three-letter ISO 3166-1 alpha-3 country code" in error.message
    assert "^[" not in error.message and "$" not in error.message


def test_every_pattern_in_the_schema_has_words_for_its_error() -> None:
    from gate.config import validation

    def patterns(node: object) -> set[str]:
        if isinstance(node, dict):
            found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
            return found.union(*(patterns(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(patterns(v) for v in node))
        return set()

    assert patterns(load_schema()) <= set(validation._PATTERN_WORDS)
