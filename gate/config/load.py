"""Load `green-budget.yml` (version 1): read it, keep its line numbers, validate it, build the model.

Validation and its messages are gate.config.validation; the model is gate.config.budget. The
builders pass only the keys a file sets, so every default comes from the model's field defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gate.config.budget import (
    BaselineSpec,
    BenchmarkSpec,
    BranchRule,
    Budget,
    CarbonSpec,
    ComparisonSpec,
    EnergySpec,
    KeyPath,
    Level,
    Policy,
    PrometheusSpec,
    ResultsSpec,
    Rules,
    SourceSpec,
    WaiverRule,
)
from gate.config.validation import dotted, number, validate
from gate.energy.model import PHASE_FIGURES
from gate.errors import ConfigError, cut, quoted
from gate.files import NotRegularFile, TooLarge, read_regular, why_unreadable

SCHEMA_RESOURCE = "green-budget.v1.schema.json"

# A budget file is a few dozen keys. These bounds are far above any real one and far below what makes
# reading, validating or walking it slow: aliases repeat whole nodes, so 433 bytes of nested anchors
# (a "billion laughs") expand to 10^8 values.
MAX_BUDGET_BYTES = 1024 * 1024
MAX_ALIASES = 100
MAX_NODES = 20_000  # counted with every alias expanded
MAX_DEPTH = 50
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TAG_WORDS = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
}


def load_schema() -> dict[str, Any]:
    """The budget file's JSON Schema, as shipped in this package."""
    text = resources.files("gate.config").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_budget(path: str | Path, *, lenient: bool = False) -> Budget:
    """Read, validate and resolve a budget file. Raises ConfigError with file and line.

    `lenient`: a misspelt key (a close match of a known one) is a warning, not an error."""
    path = Path(path)
    try:
        # A regular file only, opened without blocking: a FIFO or a device named as the budget would
        # hang or never end. Four bytes per character at most: parse_budget then counts characters.
        raw = read_regular(path, MAX_BUDGET_BYTES * 4)
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    except FileNotFoundError:
        raise ConfigError(
            f"budget file {str(path)!r} not found",
            hint="pass --budget PATH, or run from the folder holding green-budget.yml",
        ) from None
    except (NotRegularFile, TooLarge) as exc:
        raise ConfigError(
            f"cannot read budget file {str(path)!r}: {why_unreadable(exc)}",
            hint="pass a budget file: a YAML file of a few dozen keys",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read budget file {str(path)!r}: {exc}") from None
    return parse_budget(text, path, lenient=lenient)


def parse_budget(text: str, path: Path, *, lenient: bool = False) -> Budget:
    """Validate and resolve budget text; `path` names it in errors and anchors working_directory."""
    if len(text) > MAX_BUDGET_BYTES:
        raise ConfigError(
            f"the budget file is {len(text):,} characters long, over the limit of {MAX_BUDGET_BYTES:,}",
            hint="a budget file is a few dozen keys; check that the right file is passed with --budget",
            file=str(path),
        )
    data, lines = _parse_yaml(text, str(path))
    _no_nul(data, lines, str(path))
    _dates_as_text(data)
    warnings = validate(data, lines, str(path), load_schema(), lenient=lenient)
    return _build(data, lines, path, tuple(warnings))


# --- YAML with line numbers -------------------------------------------------------------------


class _Refused(Exception):
    """What the bounded loader refuses, and where; _parse_yaml turns it into a ConfigError."""

    def __init__(self, message: str, hint: str, mark: Any) -> None:  # a yaml Mark (pure or C), or None
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = mark.line + 1 if mark else None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with bounds on aliases, expanded size and nesting, checked while
    composing (which is linear in the text), before anything walks the expanded document."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_count = 0
        self.depth = 0
        self.expanded: dict[int, int] = {}  # id(node) -> its node count with aliases expanded

    # `index` is a mapping value's key node, or a sequence item's position.
    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                raise _Refused(
                    f"more than {MAX_ALIASES} YAML aliases (*name)",
                    "write the values out; a budget file needs few anchors and aliases, if any",
                    event.start_mark,
                )
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self.expanded:
                raise _Refused(
                    f"the YAML alias *{cut(str(event.anchor))} repeats the node it is part of",
                    "an alias may only repeat a node that is complete where the alias stands",
                    event.start_mark,
                )
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(
                f"values nested more than {MAX_DEPTH} levels deep",
                "a budget file is a few levels deep; check the brackets and indentation",
                event.start_mark,
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if node is None:
            return None
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        size = 1 + sum(self.expanded[id(child)] for child in children)
        if size > MAX_NODES and self.alias_count:
            raise _Refused(
                f"the YAML aliases (*name) expand this value to more than {MAX_NODES:,} values",
                "write the values out; a budget file needs few anchors and aliases, if any",
                node.start_mark,
            )
        if size > MAX_NODES:
            raise _Refused(
                f"this value holds more than {MAX_NODES:,} values",
                "a budget file is a few dozen keys; check that the right file is passed with --budget",
                node.start_mark,
            )
        self.expanded[id(node)] = size
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # e.g. a date 2024-13-45, an int of 5000 digits
            what = quoted(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            raise _Refused(
                f"not valid YAML: cannot read {what} ({cut(str(exc))})",
                "quote the value to keep it as text",
                node.start_mark,
            ) from None


def _parse_yaml(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    _printable(text, file)
    loader = _BoundedLoader(text)
    lines: dict[KeyPath, int] = {}
    try:
        node = loader.get_single_node()
        if node is not None:
            # Before constructing: merge keys (<<) rewrite the nodes they sit in.
            _record_lines(node, (), lines, file)
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise ConfigError(exc.message, hint=exc.hint, file=file, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        line, message = _yaml_error_line(exc)
        raise ConfigError(
            f"not valid YAML: {message}",
            hint="check indentation and quoting near that line (a YAML linter shows the spot)",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {cut(str(exc))}", file=file) from None
    finally:
        loader.dispose()
    return data, lines


# What PyYAML reports at the end of a construct left open (a quote, `[`, `{`): the parser only notices
# where it gives up, lines later, so the error points at where the construct starts.
_UNCLOSED = ("quoted scalar", "flow mapping", "flow sequence")


def _yaml_error_line(exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """The line to show for a YAML error, and its message."""
    problem = cut(str(exc.problem or exc))
    start, found = exc.context_mark, exc.problem_mark
    what = next((kind for kind in _UNCLOSED if kind in (exc.context or "")), None)
    if what is not None and start is not None and found is not None and start.line < found.line:
        return start.line + 1, f"the {what} that starts here is not closed ({problem} at line {found.line + 1})"
    mark = found or start
    return (mark.line + 1 if mark else None), problem


def _printable(text: str, file: str) -> None:
    """YAML allows no control character but tab and line breaks in a file: say where one is."""
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad is None:
        return
    at = bad.start()
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    raise ConfigError(
        f"not valid YAML: control character U+{ord(bad.group()):04X} at line {line}, column {column}",
        hint="remove it (an editor may show it as ^G, ^[ or a box); inside a double-quoted string write "
        "it as an escape such as \\t",
        file=file,
        line=line,
    )


def _no_nul(data: Any, lines: dict[KeyPath, int], file: str, path: KeyPath = ()) -> None:
    """A NUL (`"\\0"` in a double-quoted string) ends a path, an argument or an environment value
    early in every program that reads one: refused wherever it is."""
    if isinstance(data, str) and "\0" in data:
        where = ".".join(str(k) for k in path) or "the file"
        raise ConfigError(
            f"{where} holds a NUL character (\\0), which no path, command or environment value may hold",
            hint="remove the \\0 escape from the value",
            file=file,
            line=lines.get(path) or next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), None),
        )
    if isinstance(data, dict):
        for key, value in data.items():
            _no_nul(key, lines, file, path)
            _no_nul(value, lines, file, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _no_nul(value, lines, file, (*path, index))


def _record_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            _check_key(key_node, path, file)
            key = str(key_node.value)
            if key in seen:
                raise ConfigError(
                    f"key {dotted(path + (key,))!r} appears twice",
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


def _check_key(key_node: yaml.Node, path: KeyPath, file: str) -> None:
    """Keys are text. YAML reads some bare words as other types (`1`, `true`, `on`, `null`, dates),
    which would silently become other keys, or no key at all."""
    if isinstance(key_node, yaml.ScalarNode) and key_node.tag in (_STR_TAG, _MERGE_TAG):
        return
    if isinstance(key_node, yaml.ScalarNode):
        what = f"key {quoted(key_node.value)} is read as {_TAG_WORDS.get(key_node.tag, key_node.tag)}, not as text"
    else:
        what = "a list or mapping is used as a key"
    raise ConfigError(
        f"at {dotted(path)}: {what}",
        hint="quote the key, e.g. '1': or 'on':",
        file=file,
        line=key_node.start_mark.line + 1,
    )


# --- building the frozen model -----------------------------------------------------------------


def _given(raw: Mapping[str, Any], **convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The keys named in `convert` that `raw` sets, converted: the model's defaults fill in the rest."""
    return {key: to_value(raw[key]) for key, to_value in convert.items() if key in raw}


def _as_is(value: Any) -> Any:
    return value


def _build(data: dict[str, Any], lines: dict[KeyPath, int], path: Path, warnings: tuple[str, ...]) -> Budget:
    base_dir = path.parent
    top_rules = _rules_from(data, (), lines)
    benchmarks = []
    for index, raw in enumerate(data["benchmarks"]):
        prefix: KeyPath = ("benchmarks", index)
        command = raw["command"]
        benchmarks.append(
            BenchmarkSpec(
                name=raw["name"],
                argv=tuple(command) if isinstance(command, list) else None,
                shell_command=command if isinstance(command, str) else None,
                # A relative path, so its default (the budget file's folder) cannot be a field default.
                working_directory=(base_dir / raw.get("working_directory", ".")).resolve(),
                env={str(k): _env_value(v) for k, v in (raw.get("env") or {}).items()},
                rules=top_rules.overridden_by(_rules_from(raw, prefix, lines)),
                line=lines.get(prefix),
                results=_results_from(raw.get("results"), prefix, lines),
                **_repeats_from(raw),
                **_given(
                    raw,
                    kind=_as_is,
                    warmup=int,
                    timeout_s=float,
                    unit=str,
                    requires_gpu=bool,
                    cooldown_s=float,
                    max_start_temperature_c=float,
                    pass_env=tuple,
                ),
            )
        )
    branch_rules = tuple(
        BranchRule(
            pattern=rule["match"],
            rules=_rules_from(rule, ("branches", index), lines),
            baseline=_baseline_from(rule["baseline"]) if "baseline" in rule else None,
        )
        for index, rule in enumerate(data.get("branches") or [])
    )
    policy = data.get("policy") or {}
    comparison = data.get("comparison") or {}
    mlflow = data.get("mlflow") or {}
    return Budget(
        path=path,
        benchmarks=tuple(benchmarks),
        carbon=_carbon_from(data.get("carbon") or {}, lines),
        baseline=_baseline_from(data.get("baseline") or {}),
        policy=Policy(
            **_given(
                policy, missing_baseline=_as_is, mlflow_unavailable=_as_is, not_comparable=_as_is, inconclusive=_as_is
            )
        ),
        comparison=ComparisonSpec(
            **_given(comparison, mode=_as_is, confidence=float, outliers=_as_is, outlier_k=float, base_ref=_as_is)
        ),
        branch_rules=branch_rules,
        warnings=warnings,
        _lines=lines,
        energy=_energy_from(data.get("energy") or {}, lines, str(path)),
        waivers=_waivers_from(data.get("waivers") or [], lines, str(path)),
        **({"experiment_template": _experiment(mlflow, data, lines, str(path))} if "experiment" in mlflow else {}),
        prometheus=PrometheusSpec(**_given(data.get("prometheus") or {}, pushgateway=_as_is, job=_as_is)),
    )


def _results_from(raw: dict[str, Any] | None, prefix: KeyPath, lines: dict[KeyPath, int]) -> ResultsSpec | None:
    if raw is None:
        return None
    return ResultsSpec(
        line=lines.get(prefix + ("results",)),
        quality=tuple((str(name), str(source)) for name, source in (raw.get("quality") or {}).items()),
        **_given(raw, format=str, path=str, count=str),
    )


# MLflow stores an experiment's name in a column of 256 characters (its own check allows 500, so a
# longer name passes sqlite and fails on PostgreSQL). `{repository}` is owner/name: at most 140.
MAX_EXPERIMENT_CHARS = 256
LONGEST_REPOSITORY = "o" * 39 + "/" + "n" * 100


def _experiment(mlflow: Mapping[str, Any], data: Mapping[str, Any], lines: dict[KeyPath, int], file: str) -> str:
    template = str(mlflow["experiment"])
    names = [str(raw.get("name", "")) for raw in data.get("benchmarks") or [] if isinstance(raw, dict)] or [""]
    longest = max(names, key=len)
    expanded = template.replace("{repository}", LONGEST_REPOSITORY).replace("{benchmark}", longest)
    if len(expanded) > MAX_EXPERIMENT_CHARS:
        raise ConfigError(
            f"mlflow.experiment makes names of up to {len(expanded):,} characters (benchmark {quoted(longest)}"
            f"{', a repository name of 140' if '{repository}' in template else ''}); MLflow stores at most "
            f"{MAX_EXPERIMENT_CHARS}, so every run would be refused",
            hint="shorten mlflow.experiment (the default is green-gate/{repository}/{benchmark})",
            file=file,
            line=lines.get(("mlflow", "experiment")),
        )
    return template


def _repeats_from(raw: Mapping[str, Any]) -> dict[str, Any]:
    """`repeats: 5` (fixed) or `repeats: {min: 3, max: 12}` (adaptive: `repeats` is the minimum)."""
    if "repeats" not in raw:
        return {}
    value = raw["repeats"]
    if isinstance(value, dict):
        return {"repeats": int(value["min"]), "repeats_max": int(value["max"])}
    return {"repeats": int(value)}


def _dates_as_text(data: Any) -> None:
    """A waiver's `expires: 2026-12-31` is a YAML date; the schema checks it as the text it was."""
    waivers = data.get("waivers") if isinstance(data, dict) else None
    for entry in waivers if isinstance(waivers, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("expires"), date):
            entry["expires"] = entry["expires"].isoformat()


def _waivers_from(raw: list[dict[str, Any]], lines: dict[KeyPath, int], file: str) -> tuple[WaiverRule, ...]:
    rules = []
    for index, entry in enumerate(raw):
        by = entry.get("by") or {}
        expires = entry.get("expires")
        expires = str(expires) if expires is not None else None
        rules.append(
            WaiverRule(
                label=str(entry["label"]),
                line=lines.get(("waivers", index)),
                expires=_expiry(
                    expires, file, lines.get(("waivers", index, "expires")) or lines.get(("waivers", index))
                ),
                **_given(entry, checks=_as_is),
                **_given(by, permission=str, logins=tuple, teams=tuple),
            )
        )
    return tuple(rules)


def _expiry(text: str | None, file: str, line: int | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"waiver expiry {quoted(text)} is not a date",
            hint="write it as YYYY-MM-DD, e.g. 2026-12-31",
            file=file,
            line=line,
        ) from None


def _energy_from(raw: dict[str, Any], lines: dict[KeyPath, int], file: str) -> EnergySpec:
    spec = EnergySpec(
        line=lines.get(("energy",)),
        **_given(raw, scopes=tuple, basis=_as_is, idle_s=float, phases=tuple, sample_hz=float, cpu=_as_is),
    )
    if spec.basis == "active" and spec.idle_s <= 0:
        raise ConfigError(
            "energy.basis 'active' needs idle power, but energy.idle_s is 0",
            hint="set energy.idle_s (e.g. 3) or use basis: total",
            file=file,
            line=lines.get(("energy", "idle_s")),
        )
    return spec


def _carbon_from(carbon: dict[str, Any], lines: dict[KeyPath, int]) -> CarbonSpec:
    pue = _given(carbon, pue=float)
    # The short forms are one-source chains.
    if "intensity_g_per_kwh" in carbon:
        line = lines.get(("carbon", "intensity_g_per_kwh"))
        return CarbonSpec((SourceSpec("fixed", float(carbon["intensity_g_per_kwh"]), line=line),), **pue)
    if "country" in carbon:
        line = lines.get(("carbon", "country"))
        return CarbonSpec((SourceSpec("codecarbon", country=carbon["country"].upper(), line=line),), **pue)
    sources = []
    for index, raw in enumerate(carbon.get("sources") or []):
        sources.append(
            SourceSpec(
                provider=raw["provider"],
                line=lines.get(("carbon", "sources", index)),
                **_given(
                    raw,
                    intensity_g_per_kwh=float,
                    country=str.upper,
                    region=str,
                    cloud=_as_is,
                    zone=_as_is,
                    token_env=_as_is,
                    timeout_s=float,
                    cache_ttl_s=float,
                ),
            )
        )
    return CarbonSpec(tuple(sources), **pue)


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _baseline_from(raw: dict[str, Any]) -> BaselineSpec:
    return BaselineSpec(**_given(raw, branch=_as_is, run_id=_as_is))


def _rules_from(holder: dict[str, Any], prefix: KeyPath, lines: dict[KeyPath, int]) -> Rules:
    """The rules `holder` itself sets (its limits, budgets and quality), with their lines."""
    limits = {}
    for metric, levels in (holder.get("limits") or {}).items():
        limits[metric] = Level(
            warn=number(levels["warn"]) if "warn" in levels else None,
            fail=number(levels["fail"]) if "fail" in levels else None,
            line=lines.get(prefix + ("limits", metric)),
        )
    budgets = {}
    for metric, levels in (holder.get("budgets") or {}).items():
        line = lines.get(prefix + ("budgets", metric))
        if isinstance(levels, dict):
            budgets[metric] = Level(warn=levels.get("warn"), fail=levels.get("fail"), line=line)
        else:
            budgets[metric] = Level(fail=float(levels), line=line)
    quality_min = {}
    quality_max = {}
    quality_min_ratio: dict[str, tuple[float, int | None]] = {}
    quality_max_ratio: dict[str, tuple[float, int | None]] = {}
    efficiency: dict[str, Level] = {}
    for metric, bounds in (holder.get("quality") or {}).items():
        line = lines.get(prefix + ("quality", metric))
        if "min" in bounds:
            quality_min[metric] = (float(bounds["min"]), line)
        if "max" in bounds:
            quality_max[metric] = (float(bounds["max"]), line)
        if "min_ratio" in bounds:
            quality_min_ratio[metric] = (float(bounds["min_ratio"]), line)
        if "max_ratio" in bounds:
            quality_max_ratio[metric] = (float(bounds["max_ratio"]), line)
        if "efficiency" in bounds:
            levels = bounds["efficiency"]
            efficiency[metric] = Level(
                warn=number(levels["warn"]) if "warn" in levels else None,
                fail=number(levels["fail"]) if "fail" in levels else None,
                line=lines.get(prefix + ("quality", metric, "efficiency")) or line,
            )
    cases: dict[str, dict[str, Level]] = {}
    for pattern, figures in (holder.get("cases") or {}).items():
        cases[str(pattern)] = {
            figure: Level(
                warn=number(levels["warn"]) if "warn" in levels else None,
                fail=number(levels["fail"]) if "fail" in levels else None,
                line=lines.get(prefix + ("cases", pattern, figure)),
            )
            for figure, levels in figures.items()
            if figure in PHASE_FIGURES  # another key is an unknown key: warned about, not judged
        }
    return Rules(
        cases=cases,
        limits_pct=limits,
        budgets=budgets,
        quality_min=quality_min,
        quality_max=quality_max,
        quality_min_ratio=quality_min_ratio,
        quality_max_ratio=quality_max_ratio,
        efficiency_pct=efficiency,
    )
