"""Check a parsed budget file against its JSON Schema, and for what a schema cannot say.

Each problem names the key path and the line, and says how to fix it. An unknown key that closely
matches a known one is a typo and an error (`limts:` would silently drop every relative limit),
unless the file says `strict: false` or the command runs `--lenient`; other unknown keys are
warnings, so a newer budget file still runs on an older gate. Pure: the caller reads the file, its
line numbers and the schema (gate.config.load).
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from gate.config import published
from gate.config.budget import DEFAULT_TOKEN_ENV, SOURCE_KEYS, KeyPath, nearest_line
from gate.errors import QUOTE_CHARS, ConfigError, cut, quoted
from gate.results import formats
from gate.results.json_pointer import pointer_problem
from gate.results.stdout import pattern_problem
from gate.tracking.schema import benchmark_metric_problem

_ALL_SOURCE_KEYS = {key for keys in SOURCE_KEYS.values() for key in keys}


DOCS_URL = published.reference_url()
# Unknown keys a semantic check below refuses with a better reason than "did you mean" (a token).
_REFUSED_ELSEWHERE = frozenset({"token"})
REFERENCE_HINT = f"see the budget reference, {DOCS_URL}"


def validate(
    data: Any, lines: dict[KeyPath, int], file: str, schema: dict[str, Any], *, lenient: bool = False
) -> list[str]:
    """The warnings (unknown keys) for a parsed budget file; ConfigError for its first problem.

    `lenient` (or `strict: false` in the file): a misspelt known key is a warning, not an error."""
    import jsonschema  # lazily: only commands that read a budget pay for it

    if not isinstance(data, dict):
        raise ConfigError(
            "the budget file must be a mapping with 'version: 1' and 'benchmarks:'",
            hint=f"start from `green-gate init` or the example in the budget reference, {DOCS_URL}",
            file=file,
            line=1,
        )
    if data.get("version") != 1:
        raise ConfigError(
            f"unsupported budget file version {quoted(data.get('version'))}",
            hint=(
                "this gate reads 'version: 1'; change that line to 'version: 1'"
                if "version" in data
                else "this gate reads 'version: 1'; add that line at the top of the file"
            ),
            file=file,
            line=lines.get(("version",), 1),
        )
    _finite_numbers(data, lines, file)
    validator = jsonschema.Draft202012Validator(schema)
    strict = not lenient and data.get("strict") is not False
    warnings: list[tuple[int, str]] = []
    typos: list[tuple[int, str, str]] = []
    problems: list[tuple[int, str, str]] = []
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":  # only `false` in this schema: unknown keys
            known = list(error.schema.get("properties", {}))
            for key in (k for k in error.instance if k not in known):
                line = lines.get(path + (key,)) or nearest_line(lines, path) or 0
                close = difflib.get_close_matches(str(key), known, n=1)
                where = dotted(path + (key,))
                if close and strict and key not in _REFUSED_ELSEWHERE:
                    typos.append((line, where, close[0]))
                    continue
                suggestion = f"; did you mean {close[0]!r}?" if close else ""
                warnings.append((line, f"{file}:{line}: unknown key {where!r} is ignored{suggestion}"))
            continue
        if "propertyNames" in error.relative_schema_path:  # the offending key itself is the instance
            path = path + (error.instance,)
        problems.append((nearest_line(lines, path) or 0, dotted(path), _describe(error, schema)))
    problems.sort()
    typos.sort()
    if typos:  # first: a misspelt key also causes the other problems (a required key "missing")
        line, where, known_key = typos[0]
        key = where.rsplit(".", 1)[-1]
        more = f" (and {len(typos) - 1} more: {', '.join(repr(w) for _, w, _ in typos[1:4])})" if len(typos) > 1 else ""
        raise ConfigError(
            f"unknown key {where!r}; did you mean {known_key!r}?{more}",
            hint=f"rename {key!r} to {known_key!r}; if the key is meant for a newer green-gate, set `strict: false` "
            "at the top of the budget file (or pass --lenient) to only warn",
            file=file,
            line=line or None,
        )
    if problems:
        line, where, what = problems[0]
        more = f" (and {len(problems) - 1} more problem(s): {_summary(problems[1:])})" if len(problems) > 1 else ""
        raise ConfigError(
            f"at {where}: {what}{more}",
            hint=f"{REFERENCE_HINT}; `green-gate validate` rechecks the file",
            file=file,
            line=line or None,
        )
    _semantic_checks(data, lines, file)
    return [text for _, text in sorted(warnings)]


def _summary(problems: list[tuple[int, str, str]]) -> str:
    return "; ".join(f"line {line}: {where}" for line, where, _ in problems[:3])


def _describe(error: Any, schema: dict[str, Any]) -> str:
    kind = error.validator
    value = error.instance
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"missing required key {missing[0]!r}" if missing else error.message
    if kind == "type":
        return f"expected {_type_words(error.validator_value)}, got {type(value).__name__} {quoted(value)}"
    if kind == "enum":
        options = ", ".join(map(str, error.validator_value))
        return f"{quoted(value)} is not one of: {options}"
    if kind == "const":
        return f"expected {error.validator_value!r}, got {quoted(value)}"
    if kind == "oneOf" and "percent" in str(error.schema.get("description", "")):
        return f"{quoted(value)} is not a percentage; write it like '+5%'"
    if kind == "oneOf" and "argv" in str(error.schema.get("description", "")):
        return f"{quoted(value)} is not a command; give a string or a list of strings"
    if kind == "oneOf" and "adaptive repeats" in str(error.schema.get("description", "")):
        # A number or {min, max}: say what is wrong with the form the value is closest to.
        branch = 1 if isinstance(value, dict) else 0
        inner = [e for e in error.context or () if e.relative_schema_path and e.relative_schema_path[0] == branch]
        if inner:
            first = inner[0]
            where = "".join(f".{p}" for p in first.relative_path)
            said = _describe(first, schema)
            return f"{where.lstrip('.')}: {said}" if where else said
        return f"{quoted(value)} is neither a whole number nor {{min, max}}"
    if kind == "oneOf":
        forms = error.schema.get("description", "see the reference")
        return f"{quoted(value)} does not match any allowed form ({forms})"
    if kind == "propertyNames":
        return f"{quoted(value)} is not a known name here ({_describe_names(error.validator_value, schema)})"
    if kind in ("minimum", "exclusiveMinimum", "maximum"):
        return f"{quoted(value)} is out of range ({cut(str(error.message))})"
    if kind == "pattern":
        expected = _PATTERN_WORDS.get(str(error.validator_value), "see this key in the budget reference")
        return f"{quoted(value)} has the wrong form: expected {expected}"
    # jsonschema's own words quote the whole instance.
    return cut(str(error.message))


# The schema's patterns in words: a user reads "a three-letter country code", not a regex.
_PATTERN_WORDS = {
    "^[A-Za-z]{3}$": "a three-letter ISO 3166-1 alpha-3 country code, e.g. USA, FRA, DEU (not a two-letter one)",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date written YYYY-MM-DD",
    "^[0-9a-f]{32}$": "an MLflow run id: 32 lower-case hexadecimal characters",
    "^[A-Za-z0-9-]+(\\[bot\\])?$": "a GitHub login (letters, digits and '-', or an app's name[bot])",
    "^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$": "a team as org/team-slug",
    "^[A-Za-z0-9][A-Za-z0-9._-]*$": "letters, digits, '.', '_' or '-', starting with a letter or digit",
    "^[A-Za-z0-9_.\\-/ ]+$": "letters, digits, spaces and '_', '.', '-', '/'",
    "^[A-Za-z_][A-Za-z0-9_]*$": "an environment variable's name (letters, digits and '_', not starting with a digit)",
    "^[a-zA-Z_][a-zA-Z0-9_]*$": "a name of letters, digits and '_', not starting with a digit",
    "^[a-z][a-z0-9_-]{0,39}$": "a lower-case word in the singular (letters, digits, '_' or '-'), at most 40 characters",
    "^\\+?[0-9]+(\\.[0-9]+)?\\s*%$": "a percentage such as '+5%'",
    "^https?://": "an http:// or https:// URL",
}


def _describe_names(names: Any, schema: dict[str, Any]) -> str:
    if isinstance(names, dict) and "$ref" in names and names["$ref"].endswith("/metric"):
        return "use one of: " + ", ".join(schema["$defs"]["metric"]["enum"])
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
                f"benchmark name {quoted(bench['name'])} is used twice",
                hint="benchmark names identify their history in MLflow; make them unique",
                file=file,
                line=line,
            )
        names[bench["name"]] = index
        _results_checks(bench.get("results"), ("benchmarks", index, "results"), lines, file)
        repeats = bench.get("repeats")
        if isinstance(repeats, dict) and repeats["min"] > repeats["max"]:
            where = dotted(("benchmarks", index, "repeats"))
            raise ConfigError(
                f"at {where}: min ({repeats['min']}) is above max ({repeats['max']})",
                hint="adaptive repeats run at least min and at most max measured runs; swap the two values",
                file=file,
                line=nearest_line(lines, ("benchmarks", index, "repeats")),
            )
    for path, levels in _level_blocks(data):
        for level in ("warn", "fail"):
            # A percentage string of hundreds of digits reads as infinity: a limit nothing exceeds.
            if level in levels and not math.isfinite(number(levels[level])):
                raise ConfigError(
                    f"at {dotted(path + (level,))}: {quoted(levels[level])} is not a finite number (too large)",
                    hint=_FINITE_HINT,
                    file=file,
                    line=nearest_line(lines, path + (level,)),
                )
        warn, fail = levels.get("warn"), levels.get("fail")
        if warn is not None and fail is not None and number(warn) > number(fail):
            raise ConfigError(
                f"at {dotted(path)}: warn ({cut(str(warn))}) is above fail ({cut(str(fail))})",
                hint="warn is the earlier, smaller threshold; swap the two values",
                file=file,
                line=nearest_line(lines, path),
            )
    _carbon_checks(data.get("carbon") or {}, lines, file)


_RESULTS_HINT = "see 'Bring your benchmark' in docs/benchmarks.md for a worked `results:` block per format"


def _results_checks(results: Any, path: KeyPath, lines: dict[KeyPath, int], file: str) -> None:
    """What the schema cannot say about a `results:` block: which keys the format takes, and that
    its count and quality fields can be read at all (a count the tool offers, a JSON Pointer, a
    pattern with one group), so a mistake stops the check before the benchmark runs."""
    if not isinstance(results, dict):
        return
    fmt = results.get("format", formats.METRICS_FILE)

    def refuse(key: str | None, what: str, hint: str = _RESULTS_HINT) -> ConfigError:
        where = path + ((key,) if key else ())
        return ConfigError(f"at {dotted(where)}: {what}", hint=hint, file=file, line=nearest_line(lines, where))

    if fmt == formats.METRICS_FILE:
        for key in ("path", "count", "quality"):
            if key in results:
                raise refuse(
                    key,
                    f"'{key}' does not apply to format 'metrics' (the benchmark writes $GREEN_GATE_METRICS)",
                    "name the tool's format (e.g. format: pytest-benchmark), or drop the key",
                )
        return
    if fmt == formats.STDOUT and "path" in results:
        raise refuse("path", "'path' does not apply to format 'stdout' (it reads the benchmark's output)")
    tool = formats.TOOL_FORMATS.get(fmt)
    if (fmt == formats.JSON or (tool is not None and tool.default_path is None)) and "path" not in results:
        raise refuse(None, f"format {fmt!r} needs 'path': the file the benchmark writes")
    path_text = results.get("path")
    if isinstance(path_text, str):
        stripped = path_text.replace("{repeat}", "")
        if "{" in stripped or "}" in stripped:
            raise refuse("path", f"{quoted(path_text)}: the only placeholder a path takes is {{repeat}}")
    if fmt in (formats.JSON, formats.STDOUT) and "count" not in results:
        what = "a JSON Pointer to the count" if fmt == formats.JSON else "a pattern whose one group is the count"
        raise refuse(None, f"format {fmt!r} needs 'count': {what}")
    count = results.get("count")
    if isinstance(count, str):
        if tool is not None and count not in tool.counts:
            raise refuse("count", f"{quoted(count)} is not a count {fmt} offers; use one of: {', '.join(tool.counts)}")
        _field_check(fmt, count, lambda what: refuse("count", what))
    for name, source in (results.get("quality") or {}).items():
        problem = benchmark_metric_problem(str(name))
        if problem is not None:
            raise refuse("quality", f"quality metric name {quoted(name)} {problem}")
        _field_check(fmt, source, lambda what, name=name: refuse("quality", f"{name}: {what}"))


def _field_check(fmt: str, source: str, refuse: Any) -> None:
    if fmt == formats.JSON and (problem := pointer_problem(source)) is not None:
        raise refuse(f"{quoted(source)} is not a JSON Pointer: {problem}")
    if fmt == formats.STDOUT and (problem := pattern_problem(source)) is not None:
        raise refuse(f"{quoted(source)} {problem}")


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
                f"at {dotted(path)}: an API token must never be written in the budget file",
                hint="store it as a CI secret, expose it as an environment variable and name that variable "
                f"in 'token_env' (default {DEFAULT_TOKEN_ENV}); then revoke the token that was committed",
                file=file,
                line=lines.get(path + ("token",)),
            )
        allowed = SOURCE_KEYS[source["provider"]]
        for key in source:
            if key != "provider" and key in _ALL_SOURCE_KEYS and key not in allowed:
                raise ConfigError(
                    f"at {dotted(path)}: '{key}' does not apply to provider {source['provider']!r}",
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
        for pattern, figures in (holder.get("cases") or {}).items():
            for figure, levels in (figures or {}).items():
                if isinstance(levels, dict):
                    blocks.append((prefix + ("cases", pattern, figure), levels))

    collect(data, ())
    for index, bench in enumerate(data.get("benchmarks", [])):
        collect(bench, ("benchmarks", index))
    for index, rule in enumerate(data.get("branches", []) or []):
        collect(rule, ("branches", index))
    return blocks


_FINITE_HINT = "write a plain number such as 5 or 0.25; .nan and .inf would switch the rule off, so they are refused"


def _finite_numbers(data: Any, lines: dict[KeyPath, int], file: str) -> None:
    """Refuse NaN, ±infinity and integers too large for a float anywhere in the file: each would
    pass the schema's range checks (NaN compares false with every bound) and then silently switch
    its rule off, or crash where the number is used."""
    stack: list[tuple[KeyPath, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((path + (key,), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((path + (index,), item) for index, item in reversed(list(enumerate(value))))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not _is_finite(value):
            env_value = len(path) == 4 and path[0] == "benchmarks" and path[2] == "env"
            raise ConfigError(
                f"at {dotted(path)}: {_not_finite_words(value)}",
                hint="quote it to pass the text to the benchmark, e.g. '.inf'" if env_value else _FINITE_HINT,
                file=file,
                line=nearest_line(lines, path),
            )


def _is_finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the largest float
        return False


def _not_finite_words(value: int | float) -> str:
    if isinstance(value, int):
        return "the number is too large (beyond ±1.8e308), not a finite number a rule can use"
    spelling = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")  # as YAML writes them
    return f"{spelling} is not a finite number"


def number(value: Any) -> float:
    """A schema-valid percent ('+5%', '5 %', 5) or plain number as a float."""
    if isinstance(value, str):
        return float(value.strip().rstrip("%").strip().lstrip("+"))
    return float(value)


def dotted(path: KeyPath) -> str:
    """A key path as the reader writes it: benchmarks[0].limits.energy_j."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{cut(str(part))}" if out else cut(str(part)))
    return cut(out, 2 * QUOTE_CHARS) or "(top level)"
