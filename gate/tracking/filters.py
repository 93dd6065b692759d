"""MLflow search filters over the gate's run schema (gate.tracking.schema). Pure: strings out."""

from __future__ import annotations

from gate.tracking.schema import TAG_ELIGIBLE, TAG_GIT_BRANCH, TAG_HARDWARE, TAG_RESULT_ID


def quote(value: str) -> str:
    """A string literal for MLflow's search filter grammar."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def baseline_filter(branch: str, hardware_id: str) -> str:
    """Runs that may become the baseline automatically: same branch and hardware, eligible, finished."""
    return (
        f"tags.`{TAG_GIT_BRANCH}` = '{quote(branch)}' AND tags.`{TAG_HARDWARE}` = '{quote(hardware_id)}' "
        f"AND tags.`{TAG_ELIGIBLE}` = 'true' AND attributes.status = 'FINISHED'"
    )


def history_filter(*, branch: str | None, hardware_id: str | None = None, since_ms: int | None = None) -> str:
    parts = []
    if branch:
        parts.append(f"tags.`{TAG_GIT_BRANCH}` = '{quote(branch)}'")
    if hardware_id:
        parts.append(f"tags.`{TAG_HARDWARE}` = '{quote(hardware_id)}'")
    if since_ms is not None:
        parts.append(f"attributes.start_time >= {int(since_ms)}")
    return " AND ".join(parts)


def result_filter(result_id: str) -> str:
    return f"tags.`{TAG_RESULT_ID}` = '{quote(result_id)}'"
