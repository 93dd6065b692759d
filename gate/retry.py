"""How often to try a remote call again, and how long to wait between tries. Pure.

The caller decides which failures are worth another try (an MLflow error code, a GitHub status)
and may wait longer when the server says so; the policy only counts attempts and backs off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # tries in all, the first one included
    backoff_s: float  # the wait after the first failed try; doubles after each further one
    max_backoff_s: float = math.inf  # no single backoff grows past this

    def backoff_after_s(self, attempt: int) -> float:
        """The wait after failed try number `attempt` (1-based): backoff_s, 2*backoff_s, ... capped."""
        return min(self.backoff_s * 2.0 ** (attempt - 1), self.max_backoff_s)

    def delays_s(self) -> tuple[float, ...]:
        """The waits between all the tries, in order (one fewer than `attempts`)."""
        return tuple(self.backoff_after_s(attempt) for attempt in range(1, self.attempts))
