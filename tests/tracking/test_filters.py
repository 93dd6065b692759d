"""MLflow search filters: the exact strings, so that a baseline, a history or an uploaded result is
searched for by equality on the right tags (a `!=` would match every other run)."""

from __future__ import annotations

from gate.tracking.filters import baseline_filter, history_filter, quote, result_filter


def test_quote_escapes_backslashes_then_quotes() -> None:
    assert quote("it's") == "it\\'s"
    assert quote("a\\b") == "a\\\\b"
    assert quote("a\\'b") == "a\\\\\\'b"
    assert quote("plain") == "plain"


def test_baseline_filter_is_same_branch_same_hardware_eligible_and_finished() -> None:
    assert baseline_filter("main", "hw1") == (
        "tags.`mlflow.source.git.branch` = 'main' AND tags.`green_gate.hardware_id` = 'hw1' "
        "AND tags.`green_gate.baseline_eligible` = 'true' AND attributes.status = 'FINISHED'"
    )


def test_baseline_filter_quotes_its_values() -> None:
    assert baseline_filter("it's", "h'w").startswith(
        "tags.`mlflow.source.git.branch` = 'it\\'s' AND tags.`green_gate.hardware_id` = 'h\\'w' "
    )


def test_history_filter_names_only_what_is_given() -> None:
    assert history_filter(branch=None) == ""
    assert history_filter(branch="") == ""
    assert history_filter(branch="main") == "tags.`mlflow.source.git.branch` = 'main'"
    assert history_filter(branch=None, hardware_id="hw1") == "tags.`green_gate.hardware_id` = 'hw1'"
    assert history_filter(branch=None, since_ms=0) == "attributes.start_time >= 0"
    assert history_filter(branch="dev", hardware_id="hw1", since_ms=1700000000000) == (
        "tags.`mlflow.source.git.branch` = 'dev' AND tags.`green_gate.hardware_id` = 'hw1' "
        "AND attributes.start_time >= 1700000000000"
    )


def test_result_filter_is_equality_on_the_result_id() -> None:
    assert result_filter("r-1") == "tags.`green_gate.result_id` = 'r-1'"
    assert result_filter("o'k") == "tags.`green_gate.result_id` = 'o\\'k'"
