"""Untrusted text (the benchmark's output and errors, names from MLflow) reaches the report, the job
summary, the PR comment and the check run without a control character or a `<!--`."""

from __future__ import annotations

from typing import Any

from gate.github.publish import render_body
from gate.output.markdown import inert_data
from gate.output.report import render
from tests.support.documents import document, outcome

HOSTILE = "\x1b[2J\x1b]0;owned\x07 done <!-- the rest is hidden"


def hostile_document() -> dict[str, Any]:
    doc = document(outcome(error=f"exit 3: {HOSTILE}", output_tail=(HOSTILE, "plain line")), "error")
    doc["notes"] = [HOSTILE]
    return doc


def test_the_report_and_the_comment_hold_no_escape_and_no_comment_opener() -> None:
    doc = hostile_document()
    for text in (render(doc), render_body(doc, None)):
        assert "\x1b" not in text and "\x07" not in text
        assert "done" in text and "plain line" in text  # the text itself is still shown
    assert "<!--" not in render(doc)
    body = render_body(doc, None)
    assert body.count("<!--") == 1 and body.startswith("<!--")  # only the sticky comment's own marker


def test_inert_data_keeps_tabs_and_line_breaks() -> None:
    assert inert_data({"a\x1bb": ["x\ty\nz", ("\x9b",)]}) == {"a\ufffdb": ["x\ty\nz", ["\ufffd"]]}
