"""Hostile or broken budget files: non-finite numbers, alias bombs, deep nesting, huge strings, odd keys.

Each ends in a ConfigError (exit 2) naming the file, the line and the key, never in a traceback, a
hang, or a rule that silently stops applying.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.config.load import load_schema, parse_budget
from gate.errors import ConfigError, ExitCode
from tests.support.cli import cli_environment, run_cli

BASE: dict[str, Any] = {"version": 1, "benchmarks": [{"name": "bench", "command": "python bench.py"}]}
NON_FINITE = (math.nan, math.inf, -math.inf)
# A placeholder key for maps whose keys the user names (env variables, quality metrics).
USER_KEY = {"env": "SEED", "quality": "accuracy"}


def numeric_fields(schema: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every place in the schema where a number may stand: (key path, its subschema)."""
    found: list[tuple[tuple[str | int, ...], dict[str, Any]]] = []
    defs = schema["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        return node

    def walk(node: dict[str, Any], path: tuple[str | int, ...], depth: int) -> None:
        node = resolve(node)
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if "number" in types or "integer" in types:
            found.append((path, node))
        for branch in node.get("oneOf", []):
            walk(branch, path, depth)
        if depth > 6:
            return
        for key, sub in node.get("properties", {}).items():
            walk(sub, (*path, key), depth + 1)
        if "items" in node:
            walk(node["items"], (*path, 0), depth + 1)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and path:
            names = resolve(node.get("propertyNames", {}))
            key = names["enum"][0] if "enum" in names else USER_KEY.get(str(path[-1]), "name")
            walk(extra, (*path, key), depth + 1)

    walk(schema, (), 0)
    return [(p, n) for p, n in found if p and p != ("version",)]


def valid_sample(node: dict[str, Any]) -> float | int:
    if "minimum" in node:
        return node["minimum"]  # type: ignore[no-any-return]
    if "exclusiveMinimum" in node:
        return node["exclusiveMinimum"] + 1  # type: ignore[no-any-return]
    return 1


def document_with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """BASE with `value` at `path`, plus what that place needs around it to be valid."""
    doc = copy.deepcopy(BASE)
    holder: Any = doc
    for index, key in enumerate(path[:-1]):
        following = path[index + 1]
        if isinstance(key, int):
            while len(holder) <= key:
                holder.append({})
            holder = holder[key]
            continue
        if key not in holder:
            holder[key] = [] if isinstance(following, int) else {}
        holder = holder[key]
    holder[path[-1]] = value
    if len(path) >= 2 and path[-2] == "repeats":  # adaptive repeats need both ends
        holder.setdefault("max" if path[-1] == "min" else "min", 2)
    if path[:2] == ("branches", 0):
        doc["branches"][0]["match"] = "release/*"
    if path[:3] == ("carbon", "sources", 0):
        source = doc["carbon"]["sources"][0]
        source.update({"provider": "fixed"} if path[3] == "intensity_g_per_kwh" else {"provider": "electricitymaps"})
        if source["provider"] == "electricitymaps":
            source["zone"] = "DE"
    return doc


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, width=math.inf)


def parse_doc(doc: dict[str, Any]) -> object:
    return parse_budget(dump(doc), Path("green-budget.yml"))


FIELDS = numeric_fields(load_schema())


def test_the_schema_walk_finds_every_numeric_field() -> None:
    paths = {p for p, _ in FIELDS}
    assert len(paths) >= 22
    for expected in [
        ("benchmarks", 0, "timeout_s"),
        ("benchmarks", 0, "limits", "energy_per_prediction_j", "fail"),
        ("limits", "energy_per_prediction_j", "warn"),
        ("budgets", "energy_per_prediction_j"),
        ("budgets", "energy_per_prediction_j", "fail"),
        ("quality", "accuracy", "min"),
        ("carbon", "pue"),
        ("carbon", "sources", 0, "cache_ttl_s"),
        ("energy", "sample_hz"),
        ("comparison", "outlier_k"),
        ("branches", 0, "quality", "accuracy", "max"),
    ]:
        assert expected in paths


def cases() -> Iterator[Any]:
    for path, node in FIELDS:
        for value in NON_FINITE:
            yield pytest.param(path, node, value, id=f"{'.'.join(map(str, path))}={value}")


@pytest.mark.parametrize(("path", "node", "value"), list(cases()))
def test_non_finite_numbers_are_refused_in_every_numeric_field(
    path: tuple[str | int, ...], node: dict[str, Any], value: float
) -> None:
    parse_doc(document_with(path, valid_sample(node)))  # the place itself is valid with a number
    text = dump(document_with(path, value))
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("green-budget.yml"))
    error = info.value
    where = next(i for i, line in enumerate(text.splitlines(), 1) if ".inf" in line or ".nan" in line)
    assert (error.exit_code, error.file, error.line) == (ExitCode.USAGE, "green-budget.yml", where)
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    assert key in error.message and "finite" in error.message


@pytest.mark.parametrize(("path", "node"), FIELDS, ids=[".".join(map(str, p)) for p, _ in FIELDS])
def test_numbers_too_large_for_a_float_are_refused(path: tuple[str | int, ...], node: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_doc(document_with(path, 10**400))
    assert info.value.line is not None and len(info.value.render()) < 1000


@pytest.mark.parametrize("text", ["+1" + "0" * 400 + "%", "1" + "0" * 400 + ".5 %"])
def test_a_percentage_too_large_for_a_float_is_refused(text: str) -> None:
    doc = document_with(("limits", "energy_j", "fail"), text)
    with pytest.raises(ConfigError) as info:
        parse_doc(doc)
    assert "limits.energy_j.fail" in info.value.message and "finite" in info.value.message
    assert info.value.line == 7 and len(info.value.render()) < 1000


BOMB = """\
version: 1
benchmarks: [{name: b, command: x}]
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_an_alias_bomb_is_refused_at_once() -> None:
    assert len(BOMB.encode()) < 500
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        parse_budget(BOMB, Path("green-budget.yml"))
    assert time.perf_counter() - start < 2.0
    assert info.value.exit_code == ExitCode.USAGE and info.value.line is not None
    assert "alias" in info.value.message


def test_doubling_aliases_under_the_alias_count_are_refused_by_their_expanded_size() -> None:
    rows = ["a0: &a0 [x, x]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 40)]
    text = "version: 1\nbenchmarks: [{name: b, command: x}]\n" + "\n".join(rows) + "\n"
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("green-budget.yml"))
    assert time.perf_counter() - start < 2.0
    assert info.value.line is not None and "expand" in info.value.message


def test_a_few_aliases_for_shared_rules_still_work() -> None:
    text = (
        "version: 1\n"
        "shared: &limits {energy_j: {fail: +5%}}\n"
        "benchmarks:\n"
        "  - {name: a, command: x, limits: *limits}\n"
        "  - {name: b, command: x, limits: *limits}\n"
    )
    budget = parse_budget(text, Path("green-budget.yml"))
    assert [b.rules.limits_pct["energy_j"].fail for b in budget.benchmarks] == [5.0, 5.0]


def test_more_aliases_than_a_budget_file_needs_are_refused() -> None:
    aliases = ", ".join(["*v"] * 500)
    text = f"version: 1\nbenchmarks: [{{name: b, command: x}}]\nvalue: &v 1\nmany: [{aliases}]\n"
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("b.yml"))
    assert info.value.line == 4 and "aliases" in info.value.message


def test_a_self_referencing_alias_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_budget("version: 1\nbenchmarks: [{name: b, command: x}]\nloop: &l [*l]\n", Path("b.yml"))
    assert info.value.line == 3


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    text = "version: 1\nbenchmarks: [{name: b, command: x}]\ndeep: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("b.yml"))
    assert info.value.line == 3 and "nested" in info.value.message


@pytest.mark.parametrize("key", ["1", "true", "null", "1.5"])
def test_a_key_yaml_reads_as_a_non_string_is_refused(key: str) -> None:
    text = f"version: 1\nbenchmarks:\n  - name: b\n    command: x\n    env: {{{key}: v}}\n"
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("b.yml"))
    assert info.value.line == 5 and "quote" in (info.value.hint or "")


def test_a_long_value_is_quoted_cut_short() -> None:
    long = "x" * 100_000
    for text in [
        f"version: {long}\nbenchmarks:\n  - name: b\n    command: x\n",
        f"version: 1\nbenchmarks:\n  - name: '{long}!'\n    command: x\n",
        f"version: 1\nbenchmarks:\n  - name: b\n    command: x\n    kind: {long}\n",
        # YAML allows a key this long only after an explicit `? `.
        f"version: 1\nbenchmarks:\n  - name: b\n    command: x\nlimits:\n  ? {long}\n  : {{fail: 1}}\n",
        f"version: 1\nbenchmarks:\n  - name: b\n    command: x\n    repeats: [{', '.join(['1'] * 5_000)}]\n",
    ]:
        with pytest.raises(ConfigError) as info:
            parse_budget(text, Path("b.yml"))
        assert len(info.value.render()) < 2_000 and "…" in info.value.message


def test_a_long_unknown_key_is_quoted_cut_short_in_its_warning() -> None:
    text = "version: 1\nbenchmarks:\n  - name: b\n    command: x\n? " + "k" * 100_000 + "\n: 1\n"
    (warning,) = parse_budget(text, Path("b.yml")).warnings
    assert len(warning) < 1_000 and "…" in warning


@pytest.mark.parametrize("command", ["validate", "check"])
def test_the_cli_refuses_a_nan_limit_with_exit_2(tmp_path: Path, command: str) -> None:
    (tmp_path / "green-budget.yml").write_text(
        "version: 1\nbenchmarks:\n  - name: b\n    command: python -c pass\nlimits:\n  energy_j: {fail: .nan}\n"
    )
    result = run_cli(command, cwd=tmp_path, env=cli_environment(), timeout_s=120)
    assert result.returncode == 2, result.stderr
    assert "green-budget.yml:6:" in result.stderr and "limits.energy_j.fail" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_refuses_the_alias_bomb_with_exit_2_quickly(tmp_path: Path) -> None:
    (tmp_path / "green-budget.yml").write_text(BOMB)
    start = time.perf_counter()
    result = run_cli("validate", cwd=tmp_path, env=cli_environment(), timeout_s=60)
    assert result.returncode == 2, result.stderr
    assert time.perf_counter() - start < 10.0
    assert "green-budget.yml:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "words"),
    [("2024-13-45", "month must be in 1..12"), ("1" * 5000, "4300 digits")],
)
def test_a_scalar_yaml_cannot_construct_is_refused_with_its_line(value: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_budget(f"version: 1\nbenchmarks: [{{name: b, command: x}}]\nx: {value}\n", Path("b.yml"))
    assert info.value.line == 3 and words in info.value.message and "quote" in (info.value.hint or "")
    assert len(info.value.render()) < 1_000


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    text = "version: 1\nbenchmarks: [{name: b, command: x}]\n" + "# padding\n" * 120_000
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("b.yml"))
    assert "over the limit" in info.value.message and info.value.file == "b.yml"


def test_a_value_with_too_many_items_is_refused_even_without_aliases() -> None:
    text = "version: 1\nbenchmarks: [{name: b, command: x}]\nmany: [" + ", ".join(["1"] * 25_000) + "]\n"
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("b.yml"))
    assert info.value.line == 3 and "more than 20,000 values" in info.value.message


@pytest.mark.parametrize("char", ["\x07", "\x1b", "\x0b", "\x1a", "\x00"])
def test_a_control_character_is_refused_with_its_line(char: str) -> None:
    text = f"version: 1\nbenchmarks:\n  - name: be{char}nch\n    command: python bench.py\n"
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("green-budget.yml"))
    assert info.value.line == 3 and f"U+{ord(char):04X} at line 3, column 13" in info.value.message


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('working_directory: "a\\0b"', "benchmarks.0.working_directory"),
        ('env: {SEED: "a\\0b"}', "benchmarks.0.env.SEED"),
    ],
)
def test_a_nul_in_a_path_or_an_environment_value_is_refused(line: str, where: str) -> None:
    text = f"version: 1\nbenchmarks:\n  - name: bench\n    command: python bench.py\n    {line}\n"
    with pytest.raises(ConfigError) as info:
        parse_budget(text, Path("green-budget.yml"))
    assert info.value.line == 5 and f"{where} holds a NUL" in info.value.message


def test_an_experiment_name_mlflow_would_refuse_is_refused() -> None:
    text = "version: 1\nbenchmarks:\n  - {name: bench, command: python bench.py}\nmlflow:\n  experiment: "
    with pytest.raises(ConfigError) as info:
        parse_budget(text + "x" * 1000 + "/{benchmark}\n", Path("green-budget.yml"))
    assert info.value.line == 5 and "MLflow stores at most 256" in info.value.message
    assert parse_budget(text + "team/{repository}/{benchmark}\n", Path("b.yml")).experiment_template


def test_the_cli_refuses_control_characters_and_fifos_with_exit_2(tmp_path: Path) -> None:
    import os

    (tmp_path / "bell.yml").write_bytes(b"version: 1\nbenchmarks:\n  - name: a\x07b\n    command: x\n")
    os.mkfifo(tmp_path / "fifo.yml")
    for name, words in (("bell.yml", "control character U+0007"), ("fifo.yml", "not a regular file")):
        for command in ("validate", "check"):
            args = (command, str(tmp_path / name)) if command == "validate" else (command, "-b", str(tmp_path / name))
            done = run_cli(*args, cwd=tmp_path, env=cli_environment(), timeout_s=60)
            assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
