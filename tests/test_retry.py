"""The retry policy both remote boundaries (MLflow, GitHub) back off with."""

from __future__ import annotations

import math

from gate.retry import RetryPolicy


def test_backoff_doubles_from_the_first_wait() -> None:
    policy = RetryPolicy(attempts=5, backoff_s=1.0)
    assert [policy.backoff_after_s(attempt) for attempt in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert policy.delays_s() == (1.0, 2.0, 4.0, 8.0)
    assert policy.max_backoff_s == math.inf


def test_backoff_is_capped_and_one_attempt_never_waits() -> None:
    assert RetryPolicy(attempts=6, backoff_s=0.5, max_backoff_s=3.0).delays_s() == (0.5, 1.0, 2.0, 3.0, 3.0)
    assert RetryPolicy(attempts=1, backoff_s=0.5).delays_s() == ()
