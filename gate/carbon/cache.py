"""A small on-disk JSON cache whose entries expire after a time-to-live.

Best effort: an unreadable, corrupt or unwritable cache is a miss, never an error.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class TtlCache:
    def __init__(self, directory: Path, ttl_s: float, now: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.ttl_s = ttl_s
        self._now = now

    def path(self, key: str) -> Path:
        return self.directory / (re.sub(r"[^A-Za-z0-9._-]+", "_", key) + ".json")

    def get(self, key: str) -> tuple[dict[str, Any], float] | None:
        """(value, age in seconds) when a fresh entry exists."""
        if self.ttl_s <= 0:
            return None
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
            fetched_at = float(entry["fetched_at"])
            value = entry["value"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        age_s = self._now() - fetched_at
        if not isinstance(value, dict) or age_s < 0 or age_s > self.ttl_s:
            return None
        return value, age_s

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.ttl_s <= 0:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"fetched_at": self._now(), "value": value}, handle)
            os.replace(tmp, self.path(key))
        except OSError:
            pass
