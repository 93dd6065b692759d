"""Each budget default is written once, as a field default of the model (gate.config.budget).

The JSON Schema repeats them as `default:` for editors and readers: these tests keep the two equal,
check that a budget setting nothing builds with exactly the model's defaults, and that the
statistics' keyword defaults are the budget's.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gate.compare import stats
from gate.config.budget import (
    DEFAULT_EXPERIMENT,
    BaselineSpec,
    BenchmarkSpec,
    Budget,
    CarbonSpec,
    ComparisonSpec,
    EnergySpec,
    Policy,
    PrometheusSpec,
    ResultsSpec,
    SourceSpec,
    WaiverRule,
)
from gate.config.load import load_schema, parse_budget

# Where each model class sits in the schema.
MODEL_OF: dict[str, type[Any]] = {
    "#/$defs/benchmark": BenchmarkSpec,
    "#/$defs/carbon": CarbonSpec,
    "#/$defs/carbon_source": SourceSpec,
    "#/$defs/energy": EnergySpec,
    "#/$defs/policy": Policy,
    "#/$defs/comparison": ComparisonSpec,
    "#/$defs/prometheus": PrometheusSpec,
    "#/$defs/results": ResultsSpec,
    "#/$defs/waiver": WaiverRule,
}

MINIMAL = """\
version: 1
benchmarks:
  - name: bench
    command: python bench.py
"""


def schema_defaults(node: Any, pointer: str = "#") -> Iterator[tuple[str, str, Any]]:
    """(pointer of the object, property, its `default:`) for every property of the schema that has one."""
    if isinstance(node, dict):
        for key, prop in (node.get("properties") or {}).items():
            if isinstance(prop, dict) and "default" in prop:
                yield pointer, key, prop["default"]
        for key, child in node.items():
            yield from schema_defaults(child, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from schema_defaults(child, f"{pointer}/{index}")


def model_defaults(cls: type[Any]) -> dict[str, Any]:
    """field -> default, for the fields of a model dataclass that have one."""
    found: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            found[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            found[f.name] = f.default_factory()
    return found


SCHEMA = load_schema()
DEFAULTS = list(schema_defaults(SCHEMA))


def test_the_walk_finds_the_schemas_defaults() -> None:
    assert len(DEFAULTS) >= 18
    assert ("#/$defs/comparison", "confidence", 0.95) in DEFAULTS


@pytest.mark.parametrize(
    ("pointer", "key", "default"), DEFAULTS, ids=[f"{p.split('/')[-1]}.{k}" for p, k, _ in DEFAULTS]
)
def test_each_schema_default_is_the_models(pointer: str, key: str, default: Any) -> None:
    assert pointer in MODEL_OF, f"{pointer}.{key} has a default: add its model class to MODEL_OF"
    cls = MODEL_OF[pointer]
    defaults = model_defaults(cls)
    assert key in defaults, f"the schema gives {pointer}.{key} a default, {cls.__name__}.{key} has none"
    assert defaults[key] == default and isinstance(defaults[key], bool) == isinstance(default, bool), (
        f"{pointer}.{key}: schema default {default!r}, {cls.__name__}.{key} default {defaults[key]!r}"
    )


@pytest.mark.parametrize("pointer", sorted(MODEL_OF))
def test_each_model_default_the_file_can_set_is_in_the_schema(pointer: str) -> None:
    properties = SCHEMA["$defs"][pointer.rsplit("/", 1)[-1]]["properties"]
    stated = {key for where, key, _ in DEFAULTS if where == pointer}
    for name, default in model_defaults(MODEL_OF[pointer]).items():
        if name in properties and default not in (None, ()):  # None and (): "not set", not a value
            assert name in stated, f"{MODEL_OF[pointer].__name__}.{name} defaults to {default!r}; the schema says none"


def test_the_experiment_default_is_the_one_the_schema_describes() -> None:
    description = SCHEMA["properties"]["mlflow"]["properties"]["experiment"]["description"]
    assert f"Default '{DEFAULT_EXPERIMENT}'" in description


def test_a_minimal_budget_builds_with_exactly_the_models_defaults() -> None:
    budget = parse_budget(MINIMAL, Path("/repo/green-budget.yml"))
    for name, default in model_defaults(Budget).items():
        if name != "_lines":  # the file's line numbers, not a setting
            assert getattr(budget, name) == default, name
    (spec,) = budget.benchmarks
    for name, default in model_defaults(BenchmarkSpec).items():
        assert getattr(spec, name) == default, name


def test_empty_blocks_build_with_the_models_defaults() -> None:
    text = MINIMAL + "carbon: {}\nbaseline: {}\npolicy: {}\nenergy: {}\ncomparison: {}\nmlflow: {}\n"
    budget = parse_budget(text, Path("green-budget.yml"))
    assert (budget.carbon, budget.baseline, budget.policy) == (CarbonSpec(), BaselineSpec(), Policy())
    assert (budget.comparison, budget.energy) == (ComparisonSpec(), EnergySpec(line=8))
    assert budget.experiment_template == DEFAULT_EXPERIMENT


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{provider: fixed, intensity_g_per_kwh: 50}", SourceSpec("fixed", intensity_g_per_kwh=50.0, line=7)),
        ("{provider: codecarbon, country: FRA}", SourceSpec("codecarbon", country="FRA", line=7)),
        ("{provider: cloud, cloud: gcp}", SourceSpec("cloud", cloud="gcp", line=7)),
        ("{provider: electricitymaps, zone: DE}", SourceSpec("electricitymaps", zone="DE", line=7)),
    ],
)
def test_a_minimal_carbon_source_builds_with_the_models_defaults(source: str, expected: SourceSpec) -> None:
    budget = parse_budget(MINIMAL + f"carbon:\n  sources:\n    - {source}\n", Path("green-budget.yml"))
    assert budget.carbon.sources == (expected,)


def test_the_statistics_defaults_are_the_budgets() -> None:
    spec = ComparisonSpec()
    for function in (stats.compare_independent, stats.compare_paired):
        assert inspect.signature(function).parameters["confidence"].default == spec.confidence
    assert inspect.signature(stats.outliers).parameters["k"].default == spec.outlier_k
