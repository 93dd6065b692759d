"""A repository's own comment template renders the result; it cannot change it, read outside its
folder, or run without bound."""

from __future__ import annotations

import contextlib
import copy
import time
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ConfigError
from gate.output.report import MAX_RENDERED_CHARS, render_user_template
from tests.support.documents import document, outcome


def _doc() -> dict[str, Any]:
    doc = copy.deepcopy(document(outcome(), "fail"))  # the support's document shares its context dict
    doc["context"]["pr_number"] = 5
    return doc


def _render(tmp_path: Path, text: str, doc: dict[str, Any] | None = None) -> str:
    (tmp_path / "t.md.j2").write_text(text)
    return render_user_template(doc if doc is not None else _doc(), tmp_path / "t.md.j2")


def test_a_template_cannot_change_the_verdict_or_the_pr_it_is_posted_to(tmp_path: Path) -> None:
    doc = _doc()
    before = copy.deepcopy(doc)
    attempt = '{% set _ = result.update({"verdict": "pass"}) %}{% set _ = result.context.update({"pr_number": 1}) %}x'
    with contextlib.suppress(ConfigError):  # refusing is fine too: what matters is the result unchanged
        _render(tmp_path, attempt, doc)
    assert doc == before


def test_an_include_is_confined_to_the_templates_folder(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("root:x:0:0")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "leak.md").symlink_to(secret)
    (folder / "ok.md").write_text("inner")
    assert _render(folder, '{% include "ok.md" %}\n') == "inner"
    with pytest.raises(ConfigError) as caught:
        _render(folder, 'line one\n{% include "leak.md" %}\n')
    assert "leak.md" in caught.value.message and "root:x" not in caught.value.render()
    assert caught.value.file is not None and caught.value.file.endswith("t.md.j2")
    assert caught.value.exit_code == 2


def test_nested_ranges_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _render(tmp_path, "{% for i in range(100000000) %}{% for j in range(100000000) %}{% endfor %}{% endfor %}")
    assert "range" in caught.value.message


def test_the_rendered_size_is_capped(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _render(tmp_path, "{% for i in range(9000) %}{% for j in range(9000) %}xxxxxxxxxx{% endfor %}{% endfor %}")
    assert f"{MAX_RENDERED_CHARS:,}" in caught.value.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{{ 10 ** 100000000 }}", "bits"),
        ("{{ ('x' * 3000000000) | length }}", "repeating 1 items 3,000,000,000 times"),
        ("{{ 3000000000 * ['x'] }}", "repeating 1 items"),
        ("{{ (2 ** 4000) * (2 ** 4000) }}", "product over"),
    ],
)
def test_arithmetic_and_repetition_are_bounded_before_they_run(tmp_path: Path, text: str, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        _render(tmp_path, "line one\n" + text + "\n")
    assert words in caught.value.message and caught.value.line == 2
    assert time.monotonic() - started < 5


def test_small_arithmetic_still_renders(tmp_path: Path) -> None:
    assert _render(tmp_path, "{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ 1.5 * 2 }}") == "1024 ababab 3.0"
