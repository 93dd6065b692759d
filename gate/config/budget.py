"""Load and validate `green-budget.yml` (version 1) into plain, frozen data.

Every error names the file, the line and the key path, and says how to fix it. Unknown keys are
warnings, not errors, so a newer budget file still runs on an older gate.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from gate.errors import ConfigError

SCHEMA_RESOURCE = "green-budget.v1.schema.json"
# MLflow experiment per repository and benchmark (docs/mlflow-schema.md); `mlflow.experiment` overrides.
DEFAULT_EXPERIMENT = "green-gate/{repository}/{benchmark}"

KeyPath = tuple[str | int, ...]
Outcome = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Level:
    """A warn and/or fail threshold, with the budget line that set it."""

    warn: float | None = None
    fail: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class Rules:
    """The rules that apply to one benchmark on one branch, after all overrides."""

    limits_pct: dict[str, Level] = field(default_factory=dict)  # metric -> max increase, percent
    budgets: dict[str, Level] = field(default_factory=dict)  # metric -> absolute max per run
    quality_min: dict[str, tuple[float, int | None]] = field(default_factory=dict)
    quality_max: dict[str, tuple[float, int | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkSpec:
    name: str
    argv: tuple[str, ...] | None  # None: run `shell_command` through the shell
    shell_command: str | None
    kind: Literal["inference", "training"]
    repeats: int
    warmup: int
    timeout_s: float
    working_directory: Path
    env: dict[str, str]
    rules: Rules
    line: int | None
    requires_gpu: bool = False  # stop with a clear error when no NVIDIA GPU is visible
    # --- measurement hygiene (issue 4: trustworthy verdicts) ---
    cooldown_s: float = 0.0  # pause before each measured run
    max_start_temperature_c: float | None = None  # wait until the GPUs are this cool before each run

    @property
    def display_command(self) -> str:
        return self.shell_command if self.shell_command is not None else shlex.join(self.argv or ())


CarbonProvider = Literal["fixed", "codecarbon", "cloud", "electricitymaps"]
DEFAULT_TOKEN_ENV = "ELECTRICITYMAPS_API_TOKEN"

# The keys each carbon source provider reads (besides `provider`).
SOURCE_KEYS: dict[str, tuple[str, ...]] = {
    "fixed": ("intensity_g_per_kwh",),
    "codecarbon": ("country", "region"),
    "cloud": ("cloud", "region"),
    "electricitymaps": ("zone", "token_env", "timeout_s", "cache_ttl_s"),
}
_ALL_SOURCE_KEYS = {key for keys in SOURCE_KEYS.values() for key in keys}


@dataclass(frozen=True)
class SourceSpec:
    """One carbon-intensity source from `carbon.sources` (or the short form)."""

    provider: CarbonProvider
    intensity_g_per_kwh: float | None = None  # fixed
    country: str | None = None  # codecarbon: ISO 3166-1 alpha-3
    region: str | None = None  # codecarbon: state/province/zone; cloud: the cloud region (None: from env)
    cloud: str | None = None  # cloud: gcp | aws | azure
    zone: str | None = None  # electricitymaps
    token_env: str = DEFAULT_TOKEN_ENV  # electricitymaps: NAME of the env var holding the token
    timeout_s: float = 5.0
    cache_ttl_s: float = 900.0
    line: int | None = None

    def describe(self) -> str:
        """Short name for logs and the report's fallback chain, e.g. 'electricitymaps zone DE'."""
        if self.provider == "fixed":
            return f"fixed {self.intensity_g_per_kwh:g} g/kWh"
        if self.provider == "codecarbon":
            return f"codecarbon {self.country}" + (f"/{self.region}" if self.region else "")
        if self.provider == "cloud":
            return f"cloud {self.cloud}" + (f" {self.region}" if self.region else " (region from env)")
        return f"electricitymaps zone {self.zone}"


@dataclass(frozen=True)
class CarbonSpec:
    sources: tuple[SourceSpec, ...] = ()  # tried in order; empty: no gCO2eq
    pue: float = 1.0

    @property
    def intensity_g_per_kwh(self) -> float | None:
        """The short form's fixed value (the first fixed source)."""
        return next((s.intensity_g_per_kwh for s in self.sources if s.provider == "fixed"), None)

    @property
    def country(self) -> str | None:
        """The short form's country (the first codecarbon source)."""
        return next((s.country for s in self.sources if s.provider == "codecarbon"), None)


@dataclass(frozen=True)
class BaselineSpec:
    branch: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Policy:
    missing_baseline: Outcome = "pass"
    mlflow_unavailable: Outcome = "warn"
    not_comparable: Outcome = "warn"  # the baseline ran on other hardware


# --- comparison settings (issue 4: trustworthy verdicts) --------------------------------------
ComparisonMode = Literal["history", "paired", "auto"]


@dataclass(frozen=True)
class ComparisonSpec:
    """How relative limits are decided from repeats; see docs/statistics.md."""

    mode: ComparisonMode = "history"
    confidence: float = 0.95
    outliers: Literal["keep", "drop"] = "keep"
    outlier_k: float = 3.5
    base_ref: str | None = None  # paired mode: git revision of the base


def _comparison_from(raw: dict[str, Any]) -> ComparisonSpec:
    return ComparisonSpec(
        mode=raw.get("mode", "history"),
        confidence=float(raw.get("confidence", 0.95)),
        outliers=raw.get("outliers", "keep"),
        outlier_k=float(raw.get("outlier_k", 3.5)),
        base_ref=raw.get("base_ref"),
    )


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchRule:
    pattern: str
    raw: dict[str, Any]  # its limits/budgets/quality mappings, merged over a benchmark's rules
    prefix: KeyPath  # where it sits in the file, for line numbers
    baseline: BaselineSpec | None


# --- energy: scopes, basis, idle, phases (docs/measurement.md) ----------------------------------

EnergyScope = Literal["gpu", "cpu", "ram"]


@dataclass(frozen=True)
class EnergySpec:
    """The `energy:` block. `scopes=None`: gpu when a GPU is measured, else cpu and ram."""

    scopes: tuple[EnergyScope, ...] | None = None
    basis: Literal["total", "active"] = "total"
    idle_s: float = 3.0
    phases: tuple[str, ...] | None = None
    sample_hz: float = 100.0
    line: int | None = None


def _energy_from(raw: dict[str, Any], lines: dict[KeyPath, int], file: str) -> EnergySpec:
    spec = EnergySpec(
        scopes=tuple(raw["scopes"]) if "scopes" in raw else None,
        basis=raw.get("basis", "total"),
        idle_s=float(raw.get("idle_s", 3.0)),
        phases=tuple(raw["phases"]) if "phases" in raw else None,
        sample_hz=float(raw.get("sample_hz", 100.0)),
        line=lines.get(("energy",)),
    )
    if spec.basis == "active" and spec.idle_s <= 0:
        raise ConfigError(
            "energy.basis 'active' needs idle power, but energy.idle_s is 0",
            hint="set energy.idle_s (e.g. 3) or use basis: total",
            file=file,
            line=lines.get(("energy", "idle_s")),
        )
    return spec


# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    path: Path
    benchmarks: tuple[BenchmarkSpec, ...]
    carbon: CarbonSpec
    baseline: BaselineSpec
    policy: Policy
    experiment_template: str
    branch_rules: tuple[BranchRule, ...]
    warnings: tuple[str, ...]
    comparison: ComparisonSpec = field(default_factory=ComparisonSpec)
    _lines: dict[KeyPath, int] = field(repr=False, default_factory=dict)
    energy: EnergySpec = field(default_factory=EnergySpec)

    def benchmark(self, name: str) -> BenchmarkSpec:
        for spec in self.benchmarks:
            if spec.name == name:
                return spec
        known = ", ".join(b.name for b in self.benchmarks)
        raise ConfigError(
            f"no benchmark named {name!r} in the budget file",
            hint=f"use one of: {known}",
            file=str(self.path),
        )

    def for_branch(self, spec: BenchmarkSpec, branch: str | None) -> tuple[Rules, BaselineSpec]:
        """The benchmark's rules and baseline choice with matching branch overrides applied."""
        rules = spec.rules
        baseline = self.baseline
        for rule in self.branch_rules:
            if branch is None or not fnmatch.fnmatchcase(branch, rule.pattern):
                continue
            rules = _rules_from(rule.raw, rule.prefix, self._lines, rules)
            if rule.baseline is not None:
                baseline = BaselineSpec(
                    branch=rule.baseline.branch or baseline.branch,
                    run_id=rule.baseline.run_id or baseline.run_id,
                )
        return rules, baseline

    def line_of(self, *path: str | int) -> int | None:
        return _nearest_line(self._lines, path)


def load_schema() -> dict[str, Any]:
    text = resources.files("gate.config").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_budget(path: str | Path) -> Budget:
    """Read, validate and resolve a budget file. Raises ConfigError with file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"budget file {str(path)!r} not found",
            hint="pass --budget PATH, or run from the folder holding green-budget.yml",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read budget file {str(path)!r}: {exc}") from None
    return parse_budget(text, path)


def parse_budget(text: str, path: Path) -> Budget:
    data, lines = _parse_yaml(text, str(path))
    warnings = _validate(data, lines, str(path))
    return _build(data, lines, path, tuple(warnings))


# --- YAML with line numbers -------------------------------------------------------------------


def _parse_yaml(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(
            f"not valid YAML: {exc.problem or exc}",
            hint="check indentation and quoting near that line (a YAML linter shows the spot)",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _record_lines(node, (), lines, file)
    return data, lines


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise ConfigError(
                    f"key {_dotted(path + (key,))!r} appears twice",
                    hint="keep one of the two; YAML would silently use the last",
                    file=file,
                    line=key_node.start_mark.line + 1,
                )
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, path + (index,), lines, file)


def _nearest_line(lines: dict[KeyPath, int], path: tuple[str | int, ...]) -> int | None:
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


# --- schema validation ------------------------------------------------------------------------


def _validate(data: Any, lines: dict[KeyPath, int], file: str) -> list[str]:
    import jsonschema  # lazily: only commands that read a budget pay for it

    if not isinstance(data, dict):
        raise ConfigError(
            "the budget file must be a mapping with 'version: 1' and 'benchmarks:'",
            hint="start from the example in README.md (Budget reference)",
            file=file,
            line=1,
        )
    if data.get("version") != 1:
        raise ConfigError(
            f"unsupported budget file version {data.get('version')!r}",
            hint="this gate reads 'version: 1'; add that line at the top of the file",
            file=file,
            line=lines.get(("version",), 1),
        )
    validator = jsonschema.Draft202012Validator(load_schema())
    warnings: list[tuple[int, str]] = []
    problems: list[tuple[int, str, str]] = []
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":  # only `false` in this schema: unknown keys
            known = list(error.schema.get("properties", {}))
            for key in (k for k in error.instance if k not in known):
                line = lines.get(path + (key,)) or _nearest_line(lines, path) or 0
                close = difflib.get_close_matches(key, known, n=1)
                suggestion = f"; did you mean {close[0]!r}?" if close else ""
                warnings.append((line, f"{file}:{line}: unknown key {_dotted(path + (key,))!r} is ignored{suggestion}"))
            continue
        if "propertyNames" in error.relative_schema_path:  # the offending key itself is the instance
            path = path + (error.instance,)
        problems.append((_nearest_line(lines, path) or 0, _dotted(path), _describe(error)))
    problems.sort()
    if problems:
        line, where, what = problems[0]
        more = f" (and {len(problems) - 1} more problem(s): {_summary(problems[1:])})" if len(problems) > 1 else ""
        raise ConfigError(
            f"at {where}: {what}{more}",
            hint="see the Budget reference in README.md; `green-gate validate` rechecks the file",
            file=file,
            line=line or None,
        )
    _semantic_checks(data, lines, file)
    return [text for _, text in sorted(warnings)]


def _summary(problems: list[tuple[int, str, str]]) -> str:
    return "; ".join(f"line {line}: {where}" for line, where, _ in problems[:3])


def _describe(error: Any) -> str:
    kind = error.validator
    value = error.instance
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"missing required key {missing[0]!r}" if missing else error.message
    if kind == "type":
        return f"expected {_type_words(error.validator_value)}, got {type(value).__name__} {value!r}"
    if kind == "enum":
        options = ", ".join(map(str, error.validator_value))
        return f"{value!r} is not one of: {options}"
    if kind == "const":
        return f"expected {error.validator_value!r}, got {value!r}"
    if kind == "oneOf" and "percent" in str(error.schema.get("description", "")):
        return f"{value!r} is not a percentage; write it like '+5%'"
    if kind == "oneOf" and "argv" in str(error.schema.get("description", "")):
        return f"{value!r} is not a command; give a string or a list of strings"
    if kind == "oneOf":
        return f"{value!r} does not match any allowed form ({error.schema.get('description', 'see the reference')})"
    if kind == "propertyNames":
        return f"{value!r} is not a known name here ({_describe_names(error.validator_value)})"
    if kind in ("minimum", "exclusiveMinimum", "maximum"):
        return f"{value!r} is out of range ({error.message})"
    if kind == "pattern":
        return f"{value!r} has the wrong form (expected to match {error.validator_value})"
    return str(error.message)


def _describe_names(schema: Any) -> str:
    if isinstance(schema, dict) and "$ref" in schema and schema["$ref"].endswith("/metric"):
        return "use one of: " + ", ".join(load_schema()["$defs"]["metric"]["enum"])
    return "see the reference"


def _type_words(expected: Any) -> str:
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "text",
        "number": "a number",
        "integer": "a whole number",
        "boolean": "true or false",
    }
    if isinstance(expected, list):
        return " or ".join(words.get(str(e), str(e)) for e in expected)
    return words.get(expected, str(expected))


def _semantic_checks(data: dict[str, Any], lines: dict[KeyPath, int], file: str) -> None:
    names: dict[str, int] = {}
    for index, bench in enumerate(data["benchmarks"]):
        line = lines.get(("benchmarks", index, "name"))
        if bench["name"] in names:
            raise ConfigError(
                f"benchmark name {bench['name']!r} is used twice",
                hint="benchmark names identify their history in MLflow; make them unique",
                file=file,
                line=line,
            )
        names[bench["name"]] = index
    for path, levels in _level_blocks(data):
        warn, fail = levels.get("warn"), levels.get("fail")
        if warn is not None and fail is not None and _number(warn) > _number(fail):
            raise ConfigError(
                f"at {_dotted(path)}: warn ({warn}) is above fail ({fail})",
                hint="warn is the earlier, smaller threshold; swap the two values",
                file=file,
                line=_nearest_line(lines, path),
            )
    _carbon_checks(data.get("carbon") or {}, lines, file)


def _carbon_checks(carbon: dict[str, Any], lines: dict[KeyPath, int], file: str) -> None:
    if "country" in carbon and "intensity_g_per_kwh" in carbon:
        raise ConfigError(
            "carbon: both 'country' and 'intensity_g_per_kwh' are set",
            hint="keep one: a fixed intensity, or a country whose average intensity is looked up",
            file=file,
            line=lines.get(("carbon",)),
        )
    short = [key for key in ("country", "intensity_g_per_kwh") if key in carbon]
    if short and "sources" in carbon:
        raise ConfigError(
            f"carbon: both 'sources' and the short form '{short[0]}' are set",
            hint=f"move '{short[0]}' into carbon.sources as its own entry, or drop 'sources'",
            file=file,
            line=lines.get(("carbon", short[0])),
        )
    for index, source in enumerate(carbon.get("sources") or []):
        path: KeyPath = ("carbon", "sources", index)
        if "token" in source:
            raise ConfigError(
                f"at {_dotted(path)}: an API token must never be written in the budget file",
                hint="store it as a CI secret, expose it as an environment variable and name that variable "
                "in 'token_env' (default ELECTRICITYMAPS_API_TOKEN); then revoke the token that was committed",
                file=file,
                line=lines.get(path + ("token",)),
            )
        allowed = SOURCE_KEYS[source["provider"]]
        for key in source:
            if key != "provider" and key in _ALL_SOURCE_KEYS and key not in allowed:
                raise ConfigError(
                    f"at {_dotted(path)}: '{key}' does not apply to provider {source['provider']!r}",
                    hint=f"provider {source['provider']!r} takes: {', '.join(allowed)}",
                    file=file,
                    line=lines.get(path + (key,)),
                )


def _level_blocks(data: dict[str, Any]) -> list[tuple[KeyPath, dict[str, Any]]]:
    blocks: list[tuple[KeyPath, dict[str, Any]]] = []

    def collect(holder: dict[str, Any], prefix: KeyPath) -> None:
        for section in ("limits", "budgets"):
            for metric, levels in (holder.get(section) or {}).items():
                if isinstance(levels, dict):
                    blocks.append((prefix + (section, metric), levels))

    collect(data, ())
    for index, bench in enumerate(data.get("benchmarks", [])):
        collect(bench, ("benchmarks", index))
    for index, rule in enumerate(data.get("branches", []) or []):
        collect(rule, ("branches", index))
    return blocks


def _number(value: Any) -> float:
    """A schema-valid percent ('+5%', '5 %', 5) or plain number as a float."""
    if isinstance(value, str):
        return float(value.strip().rstrip("%").strip().lstrip("+"))
    return float(value)


# --- building the frozen model -----------------------------------------------------------------


def _build(data: dict[str, Any], lines: dict[KeyPath, int], path: Path, warnings: tuple[str, ...]) -> Budget:
    base_dir = path.parent
    top_rules = _rules_from(data, (), lines, Rules())
    benchmarks = []
    for index, raw in enumerate(data["benchmarks"]):
        prefix: KeyPath = ("benchmarks", index)
        command = raw["command"]
        benchmarks.append(
            BenchmarkSpec(
                name=raw["name"],
                argv=tuple(command) if isinstance(command, list) else None,
                shell_command=command if isinstance(command, str) else None,
                kind=raw.get("kind", "inference"),
                repeats=int(raw.get("repeats", 5)),
                warmup=int(raw.get("warmup", 1)),
                timeout_s=float(raw.get("timeout_s", 600)),
                working_directory=(base_dir / raw.get("working_directory", ".")).resolve(),
                env={str(k): _env_value(v) for k, v in (raw.get("env") or {}).items()},
                rules=_rules_from(raw, prefix, lines, top_rules),
                line=lines.get(prefix),
                requires_gpu=bool(raw.get("requires_gpu", False)),
                cooldown_s=float(raw.get("cooldown_s", 0.0)),
                max_start_temperature_c=_optional_float(raw.get("max_start_temperature_c")),
            )
        )
    carbon = data.get("carbon") or {}
    policy = data.get("policy") or {}
    branch_rules = tuple(
        BranchRule(
            pattern=rule["match"],
            raw=rule,
            prefix=("branches", index),
            baseline=_baseline_from(rule["baseline"]) if "baseline" in rule else None,
        )
        for index, rule in enumerate(data.get("branches") or [])
    )
    return Budget(
        path=path,
        benchmarks=tuple(benchmarks),
        carbon=_carbon_from(carbon, lines),
        baseline=_baseline_from(data.get("baseline") or {}),
        policy=Policy(
            missing_baseline=policy.get("missing_baseline", "pass"),
            mlflow_unavailable=policy.get("mlflow_unavailable", "warn"),
            not_comparable=policy.get("not_comparable", "warn"),
        ),
        comparison=_comparison_from(data.get("comparison") or {}),
        experiment_template=(data.get("mlflow") or {}).get("experiment", DEFAULT_EXPERIMENT),
        branch_rules=branch_rules,
        warnings=warnings,
        _lines=lines,
        energy=_energy_from(data.get("energy") or {}, lines, str(path)),
    )


def _carbon_from(carbon: dict[str, Any], lines: dict[KeyPath, int]) -> CarbonSpec:
    pue = float(carbon.get("pue", 1.0))
    if "intensity_g_per_kwh" in carbon:  # short forms, kept from the first version of the schema
        line = lines.get(("carbon", "intensity_g_per_kwh"))
        return CarbonSpec((SourceSpec("fixed", float(carbon["intensity_g_per_kwh"]), line=line),), pue)
    if "country" in carbon:
        line = lines.get(("carbon", "country"))
        return CarbonSpec((SourceSpec("codecarbon", country=carbon["country"].upper(), line=line),), pue)
    sources = []
    for index, raw in enumerate(carbon.get("sources") or []):
        sources.append(
            SourceSpec(
                provider=raw["provider"],
                intensity_g_per_kwh=float(raw["intensity_g_per_kwh"]) if "intensity_g_per_kwh" in raw else None,
                country=raw["country"].upper() if "country" in raw else None,
                region=str(raw["region"]) if "region" in raw else None,
                cloud=raw.get("cloud"),
                zone=raw.get("zone"),
                token_env=raw.get("token_env", DEFAULT_TOKEN_ENV),
                timeout_s=float(raw.get("timeout_s", 5.0)),
                cache_ttl_s=float(raw.get("cache_ttl_s", 900.0)),
                line=lines.get(("carbon", "sources", index)),
            )
        )
    return CarbonSpec(tuple(sources), pue)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _baseline_from(raw: dict[str, Any]) -> BaselineSpec:
    return BaselineSpec(branch=raw.get("branch"), run_id=raw.get("run_id"))


def _rules_from(holder: dict[str, Any], prefix: KeyPath, lines: dict[KeyPath, int], inherited: Rules) -> Rules:
    limits = dict(inherited.limits_pct)
    for metric, levels in (holder.get("limits") or {}).items():
        limits[metric] = Level(
            warn=_number(levels["warn"]) if "warn" in levels else None,
            fail=_number(levels["fail"]) if "fail" in levels else None,
            line=lines.get(prefix + ("limits", metric)),
        )
    budgets = dict(inherited.budgets)
    for metric, levels in (holder.get("budgets") or {}).items():
        line = lines.get(prefix + ("budgets", metric))
        if isinstance(levels, dict):
            budgets[metric] = Level(warn=levels.get("warn"), fail=levels.get("fail"), line=line)
        else:
            budgets[metric] = Level(fail=float(levels), line=line)
    quality_min = dict(inherited.quality_min)
    quality_max = dict(inherited.quality_max)
    for metric, bounds in (holder.get("quality") or {}).items():
        line = lines.get(prefix + ("quality", metric))
        if "min" in bounds:
            quality_min[metric] = (float(bounds["min"]), line)
        if "max" in bounds:
            quality_max[metric] = (float(bounds["max"]), line)
    return Rules(limits_pct=limits, budgets=budgets, quality_min=quality_min, quality_max=quality_max)
