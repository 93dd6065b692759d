"""Hypothesis strategies for hostile input: budget documents shaped by the schema, metrics files, and
the raw text around them (YAML and JSON tokens that parse to surprising values)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from gate.config.load import load_schema
from gate.energy.model import METRICS

SCHEMA = load_schema()
DEFS: dict[str, Any] = SCHEMA["$defs"]


# 1,000 cases per property, the same ones on every run and machine, and no example database
# written into the checkout.
REPRODUCIBLE_THOUSAND = settings(
    max_examples=1000,
    deadline=2_000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    database=None,
)


def _schema_keys(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        out.update(k for k in node.get("properties", {}) if isinstance(k, str))
        for value in node.values():
            _schema_keys(value, out)
    elif isinstance(node, list):
        for value in node:
            _schema_keys(value, out)
    return out


SCHEMA_KEYS = sorted(_schema_keys(SCHEMA, set()))
GATE_NAMES = [*METRICS, "energy_cpu_j", "energy_gpu_j", "energy_ram_j", "repeat.energy_j", "predictions"]

# Scalars chosen to sit on edges: non-finite, beyond a float, beyond Python's int-from-text limit,
# empty, long, and text that looks like a number or a percentage.
EDGE_NUMBERS = st.sampled_from(
    [0, -1, 1, 0.5, 1e308, -1e308, 5e-324, 10**400, -(10**400), math.nan, math.inf, -math.inf, 2**63, 2**53 + 1]
)
EDGE_TEXT = st.sampled_from(
    ["", " ", "+5%", "5 %", "+1" + "0" * 400 + "%", "-5%", "nan", ".inf", "x" * 300, "é", "\u0000", "a:b", "../x"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    EDGE_NUMBERS,
    st.text(max_size=20),
    EDGE_TEXT,
)
ANY_VALUE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(max_size=10)), inner, max_size=4),
    ),
    max_leaves=6,
)


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any], odds: int = 8) -> st.SearchStrategy[Any]:
    """`usual` about `odds` times out of `odds + 1`, else `odd`: most documents stay close enough to
    valid to reach the checks after the first one."""
    return st.integers(0, odds).flatmap(lambda i: odd if i == odds else usual)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = DEFS[node["$ref"].rsplit("/", 1)[1]]
    return node


def from_schema(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly what the schema describes, with random values of random types mixed in at every level."""
    node = _resolve(node)
    if depth > 6:
        return SCALARS
    options: list[st.SearchStrategy[Any]] = []
    if "const" in node:
        options.append(st.just(node["const"]))
    if "enum" in node:
        options.append(st.sampled_from(node["enum"]))
    for branch in node.get("oneOf", []):
        options.append(from_schema(branch, depth + 1))
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types or "properties" in node:
        props = node.get("properties", {})
        options.append(st.fixed_dictionaries({}, optional={k: from_schema(sub, depth + 1) for k, sub in props.items()}))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            names = _resolve(node.get("propertyNames", {}))
            keys = st.sampled_from(names["enum"]) if "enum" in names else st.text(min_size=1, max_size=12)
            options.append(
                st.dictionaries(st.one_of(keys, st.text(max_size=8)), from_schema(extra, depth + 1), max_size=3)
            )
    if "array" in types:
        items = node.get("items", {})
        options.append(st.lists(from_schema(items, depth + 1) if items else ANY_VALUE, max_size=3))
    if "number" in types or "integer" in types:
        usual = st.one_of(st.integers(0, 100), st.floats(0.5, 0.99), st.floats(1, 1000))
        options.append(mostly(usual, st.one_of(st.floats(allow_nan=True, allow_infinity=True), EDGE_NUMBERS)))
    if "string" in types:
        options.append(
            mostly(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,8}\Z"), st.one_of(st.text(max_size=12), EDGE_TEXT))
        )
    if "boolean" in types:
        options.append(st.booleans())
    # The wrong type, anywhere.
    return mostly(st.one_of(*options), ANY_VALUE) if options else ANY_VALUE


BENCHMARK = st.fixed_dictionaries(
    {"name": mostly(st.sampled_from(["bench", "b2"]), st.text(max_size=8)), "command": st.just("python bench.py")},
    optional={
        key: from_schema(sub, 2)
        for key, sub in DEFS["benchmark"]["properties"].items()
        if key not in ("name", "command")
    },
)
DOCUMENT = st.fixed_dictionaries(
    {"version": mostly(st.just(1), SCALARS), "benchmarks": st.lists(BENCHMARK, min_size=1, max_size=2)},
    optional={k: from_schema(sub, 1) for k, sub in SCHEMA["properties"].items() if k not in ("version", "benchmarks")},
)

# Raw YAML that a dump never writes: aliases, tags, bare words YAML 1.1 reads as bools or dates,
# flow brackets left open, explicit keys.
YAML_TOKENS = st.sampled_from(
    [
        ".nan",
        ".inf",
        "-.inf",
        "1.0e+400",
        "1" * 5000,
        "on",
        "off",
        "yes",
        "~",
        "null",
        "2024-13-45",
        "2024-01-01",
        "0x1F",
        "0o17",
        "1:20",
        "!!binary aGk=",
        "!!binary ???",
        "!!set {a, b}",
        "!!python/object:os.system x",
        "&a [1]",
        "*a",
        "*nope",
        "&a [*a]",
        "[",
        "{",
        "]",
        "}",
        "? [a, b]\n: 1",
        "<<: {x: 1}",
        "'unterminated",
        '"\\x"',
        "[" * 200 + "]" * 200,
        "- - - - -",
        "\t",
        "%YAML 1.1",
        "---",
        "...",
        "\u0085",
        "\ufeff",
    ]
)


@st.composite
def budget_texts(draw: st.DrawFn) -> str:
    """A generated budget document as YAML; sometimes with a raw token spliced into one line."""
    doc = draw(DOCUMENT)
    try:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=draw(st.booleans()))
    except (yaml.YAMLError, ValueError):
        text = "version: 1\n"
    if draw(st.integers(0, 4)) == 0:
        lines = text.splitlines()
        # Mostly in place of a scalar value (the version line has its own odds), else anywhere.
        leaves = [i for i, line in enumerate(lines) if i > 0 and re.match(r"^[\s-]*[^:\s][^:]*: \S", line)]
        anywhere = draw(st.integers(0, 3)) == 0
        spots: list[int] = leaves if leaves and not anywhere else list(range(1, len(lines)))
        # A uniform pick: Hypothesis's own integers favour the first lines.
        index = draw(st.randoms(use_true_random=False)).choice(spots) if spots else 0
        token = draw(YAML_TOKENS)
        line = lines[index] if lines else ""
        key, colon, _ = line.partition(": ")
        in_place = key + colon + token if colon else line + " " + token
        spliced = draw(st.sampled_from([in_place, line + " " + token, line + "\n" + token]))
        lines[index : index + 1] = [spliced]
        text = "\n".join(lines) + "\n"
    return text


# --- metrics files ------------------------------------------------------------------------------

METRIC_NAMES = st.one_of(
    st.sampled_from([*GATE_NAMES, "accuracy", "eval/f1", "top-1 acc", "a//b", "/x", "a:b", "", ".", "x" * 300]),
    st.text(max_size=12),
)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        EDGE_NUMBERS,
        st.text(max_size=10),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(METRIC_NAMES, inner, max_size=4)),
    max_leaves=10,
)
JSON_TOKENS = st.sampled_from(
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e400",
        "-1e400",
        "9" * 400,
        "9" * 5000,
        "12.5",
        "0",
        "-1",
        "true",
        "null",
        '"12800"',
        "[" * 50_000,
        "{" * 50_000,
        '{"a": ' * 50_000,
    ]
)


@st.composite
def metrics_texts(draw: st.DrawFn) -> str:
    """A metrics file: mostly an object of names and numbers, sometimes anything JSON, sometimes raw text."""
    kind = draw(st.sampled_from(["object", "object", "any", "raw", "token"]))
    if kind == "object":
        data = draw(st.dictionaries(METRIC_NAMES, st.one_of(JSON_VALUES, EDGE_NUMBERS), max_size=6))
        return json.dumps(data, allow_nan=True)
    if kind == "any":
        return json.dumps(draw(JSON_VALUES), allow_nan=True)
    if kind == "token":
        key = draw(st.sampled_from(["predictions", "accuracy", "energy_j"]))
        return "{" + json.dumps(key) + ": " + draw(JSON_TOKENS) + "}"
    return draw(st.text(max_size=40))
