"""Property: whatever webhook payload `GITHUB_EVENT_PATH` holds (the real payloads in tests/data/events
with values replaced, removed or retyped anywhere, or not JSON at all), reading the run's context ends
in a CiContext of the declared types or, for a pull request whose payload holds no pull request, a
ConfigError; never a traceback, never a PR number that is not one, never a pull request taken for a
push."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gate.errors import ConfigError
from gate.github import context
from tests.reliability.strategies import ANY_VALUE, REPRODUCIBLE_THOUSAND

pytestmark = pytest.mark.slow  # 1,000 generated cases take a few seconds

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
PAYLOADS = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(EVENTS.glob("*.json"))}
KEY_PATHS = [
    ("pull_request",),
    ("pull_request", "number"),
    ("pull_request", "head"),
    ("pull_request", "head", "sha"),
    ("pull_request", "head", "ref"),
    ("pull_request", "base", "ref"),
    ("pull_request", "base", "sha"),
    ("number",),
    ("ref",),
    ("after",),
]


def _paths(data: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))


def _set(data: Any, path: tuple[str, ...], value: Any, *, remove: bool) -> None:
    for key in path[:-1]:
        if not isinstance(data, dict):
            return
        data = data.setdefault(key, {})
    if isinstance(data, dict):
        if remove:
            data.pop(path[-1], None)
        else:
            data[path[-1]] = value


@st.composite
def payload_texts(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(PAYLOADS)))
    if draw(st.integers(0, 9)) == 0:  # not a JSON object at all
        return draw(st.sampled_from(["", "null", "[]", '"x"', "{", "\ufeff{}", "1e400", "[" * 5000]))
    data = json.loads(json.dumps(PAYLOADS[name]))
    every = list(_paths(data))
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.one_of(st.sampled_from(KEY_PATHS), st.sampled_from(every)))
        _set(data, where, draw(ANY_VALUE), remove=draw(st.integers(0, 4)) == 0)
    return json.dumps(data, allow_nan=True)


@pytest.fixture(scope="module")
def event_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("event") / "event.json"


@REPRODUCIBLE_THOUSAND
@given(payload_texts(), st.sampled_from(["pull_request", "push", "workflow_dispatch", ""]))
def test_any_payload_gives_a_context_of_the_declared_types(event_file: Path, text: str, event_name: str) -> None:
    event_file.write_text(text, encoding="utf-8")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_SHA": "f" * 40,
        "GITHUB_REF_NAME": "main",
        "GITHUB_REPOSITORY": "acme/models",
    }
    try:
        found = context.detect(env, event_file.parent)
    except ConfigError as exc:
        assert event_name == "pull_request" and "event payload" in exc.message
        return
    if event_name == "pull_request":
        assert found.is_pull_request and not found.may_become_baseline
    for value in (found.commit, found.branch, found.base_branch, found.repository, found.base_commit):
        assert value is None or (isinstance(value, str) and value)
    assert found.pr_number is None or (type(found.pr_number) is int and found.pr_number > 0)
    assert isinstance(found.is_pull_request, bool) and isinstance(found.may_become_baseline, bool)
    json.dumps(found.to_dict(), allow_nan=False)
    assert isinstance(context.event_payload(env), dict)
