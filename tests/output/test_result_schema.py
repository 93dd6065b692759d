"""The result schema declares every field the gate writes: each object with fixed keys refuses any
other (additionalProperties: false), and every golden result, every document the tests render, and
the results of real runs (tests/pipeline) validate against it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.commands.test_comment import fail_document
from tests.support.documents import result_schema, validate_result

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _objects(node: Any, at: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "properties" in node:
            yield at, node
        for key, value in node.items():
            yield from _objects(value, f"{at}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{at}/{i}")


def test_every_object_with_named_fields_refuses_undeclared_ones() -> None:
    loose = [at for at, node in _objects(result_schema()) if node.get("additionalProperties") is not False]
    assert loose == []


def _golden_results() -> list[Path]:
    return sorted((GOLDEN / "pipeline").glob("*.json"))


# What the golden files normalise to "X" (this machine's, not the code's), put back as a run writes it.
_MACHINE = {
    "created_at": "2026-11-23T12:00:00Z",
    "start_time_ms": 0,
    "hardware": {"description": "test", "fingerprint": "ff2ecbfdf6e1", "cpu_model": "x", "cpu_count": 2},
    "hardware_id": "ff2ecbfdf6e1",
}


def _machine_back(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _MACHINE[k] if v == "X" and k in _MACHINE else _machine_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_machine_back(v) for v in value]
    return value


@pytest.mark.parametrize("path", _golden_results(), ids=lambda p: p.stem)
def test_every_golden_result_validates(path: Path) -> None:
    document = _machine_back(json.loads(path.read_text(encoding="utf-8"))["result"])
    validate_result(document)


def test_the_rendered_example_documents_validate_result() -> None:
    validate_result(fail_document())


def test_a_field_the_schema_does_not_declare_is_refused() -> None:
    document = fail_document()
    document["benchmarks"][0]["checks"][0]["surprise"] = 1
    with pytest.raises(AssertionError, match="surprise"):
        validate_result(document)
    document = fail_document()
    document["surprise"] = 1
    with pytest.raises(AssertionError, match="surprise"):
        validate_result(document)


def test_docs_templates_names_every_field_of_the_schema() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
    named = set(re.findall(r"[a-z_][a-z0-9_]*", text))
    fields = {name for _, node in _objects(result_schema()) for name in node["properties"]}
    assert sorted(fields - named) == []
