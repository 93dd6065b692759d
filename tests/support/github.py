"""GitHub's real webhook payloads (tests/data/events/, from octokit/webhooks) as the tests use them."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.github_server import EVENTS

REPO = "Codertocat/Hello-World"  # the repository of the octokit/webhooks example payloads
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # pull_request.opened.json: pull_request.head.sha


def fork_event() -> dict[str, Any]:
    """octokit/webhooks has no fork example: the opened payload with the head in another repository."""
    event: dict[str, Any] = json.loads((EVENTS / "pull_request.opened.json").read_text())
    event["pull_request"]["head"]["repo"]["full_name"] = "forker/Hello-World"
    return event
