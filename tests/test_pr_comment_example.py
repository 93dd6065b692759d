"""docs/pr-comment-example.md shows what the current templates make of a real run's result: its two
rendered sections are the comment rendered now from docs/pr-comment-example.json (UPDATE_GOLDEN=1
rewrites them), and the figures its prose quotes are the comment's."""

from __future__ import annotations

import os
import re
from pathlib import Path

from gate.github.publish import render_body
from tests.support.documents import pr_comment_example, validate_result
from tests.support.golden import UPDATE_ENV

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE = DOCS / "pr-comment-example.md"
GENERATED = "## As GitHub shows it\n"


def example_comment() -> str:
    return render_body(pr_comment_example(), None)


def generated_sections(comment: str) -> str:
    return f"{GENERATED}\n{comment}\n\n## The Markdown source\n\n````markdown\n{comment}````\n"


def test_the_example_result_is_a_valid_result_document() -> None:
    validate_result(pr_comment_example())


def test_the_page_shows_the_comment_the_templates_render_now() -> None:
    page = PAGE.read_text(encoding="utf-8")
    head, found, _ = page.partition(GENERATED)
    assert found, f"{PAGE.name} lost its {GENERATED.strip()!r} section"
    expected = head + generated_sections(example_comment())
    if os.environ.get(UPDATE_ENV) == "1":
        PAGE.write_text(expected, encoding="utf-8")
    assert page == expected, f"{PAGE.name} is out of step with the templates: run with {UPDATE_ENV}=1 and review it"


def test_the_figures_the_prose_quotes_are_the_comment_s() -> None:
    head = PAGE.read_text(encoding="utf-8").partition(GENERATED)[0]
    quoted = re.findall(r"[+-]\d+\.\d% ± \d+\.\d%", head)
    assert quoted, "the prose quotes the change"
    comment = example_comment()
    assert [q for q in quoted if q not in comment] == []
