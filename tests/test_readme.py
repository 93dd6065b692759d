"""The README's budget reference is a budget the gate accepts, without warnings, and shows every key."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from gate.config.load import parse_budget

README = Path(__file__).resolve().parent.parent / "README.md"
SCHEMA = Path(__file__).resolve().parent.parent / "gate" / "config" / "green-budget.v1.schema.json"
ANY_KEY = "*"  # a mapping whose keys are the user's (metric names, quality metrics)


def _reference_blocks() -> list[str]:
    blocks = re.findall(r"```yaml\n(version: 1 .*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README.md has no ```yaml block starting with 'version: 1'"
    return blocks


def test_budget_reference_in_readme_is_valid() -> None:
    for block in _reference_blocks():
        budget = parse_budget(block, Path("README.md"))
        assert budget.warnings == ()
        assert budget.benchmarks


def _schema_keys(
    node: dict[str, Any], root: dict[str, Any], where: str, path: tuple[str, ...]
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(where the key is defined in the schema, a path it takes in a budget file) for every key.

    A definition used in several places ($ref) yields each of its paths under the same `where`: the
    README needs to show the key in one of them (per-benchmark `limits:` are the top-level ones)."""
    if "$ref" in node:
        ref = node["$ref"]
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        yield from _schema_keys(target, root, ref, path)
        return
    for combined in ("oneOf", "anyOf", "allOf"):
        for position, option in enumerate(node.get(combined, [])):
            yield from _schema_keys(option, root, f"{where}/{combined}/{position}", path)
    for key, child in node.get("properties", {}).items():
        yield f"{where}/properties", path + (key,)
        yield from _schema_keys(child, root, f"{where}/properties/{key}", path + (key,))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _schema_keys(extra, root, f"{where}/additionalProperties", path + (ANY_KEY,))
    if isinstance(node.get("items"), dict):
        yield from _schema_keys(node["items"], root, f"{where}/items", path + ("[]",))


def _yaml_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield path + (str(key),)
            yield from _yaml_paths(child, path + (str(key),))
    elif isinstance(value, list):
        for child in value:
            yield from _yaml_paths(child, path + ("[]",))


def _shown(wanted: tuple[str, ...], present: set[tuple[str, ...]]) -> bool:
    return any(
        len(have) == len(wanted) and all(w in (ANY_KEY, h) for w, h in zip(wanted, have, strict=True))
        for have in present
    )


def test_budget_reference_in_readme_shows_every_schema_key() -> None:
    """Every key of the shipped schema is set in the reference, or shown as a commented-out line
    (`# run_id: …`) where it is an alternative to a key set beside it."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    paths_by_key: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for where, path in _schema_keys(schema, schema, "#", ()):
        paths_by_key.setdefault((where, path[-1]), []).append(path)
    blocks = _reference_blocks()
    present = {p for block in blocks for p in _yaml_paths(yaml.safe_load(block))}
    commented = {name for block in blocks for name in re.findall(r"#\s*([a-z_]+):", block)}
    missing = sorted(
        ".".join(paths[0])
        for (_, key), paths in paths_by_key.items()
        if not any(_shown(p, present) for p in paths) and key not in commented
    )
    assert not missing, f"README's budget reference does not show: {', '.join(missing)}"


def test_readme_says_how_to_install_the_cli_into_another_project() -> None:
    from gate import __version__

    text = README.read_text(encoding="utf-8")
    assert f'pip install "git+https://github.com/green-gate/green-gate@v{__version__}"' in text
    assert f"green-gate/green-gate/setup@v{__version__}" in text
    assert "2–3 minutes on a 2-core machine" in text and "about a minute" not in text


def test_readme_actions_snippet_uses_the_container_action_only_off_gpu_runners() -> None:
    """docs/action.md advises setup + CLI for GPU runners: the README's container-action snippet
    does not sit on one."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## In GitHub Actions") :]
    snippet = yaml.safe_load(re.search(r"```yaml\n(jobs:.*?)```", section, flags=re.S).group(1))  # type: ignore[union-attr]
    (job,) = snippet["jobs"].values()
    assert any(str(step.get("uses", "")).startswith("green-gate/green-gate@") for step in job["steps"])
    assert "gpu" not in str(job["runs-on"]).lower() and "self-hosted" not in str(job["runs-on"])
