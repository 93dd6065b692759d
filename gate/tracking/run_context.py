"""The run's context tag (TAG_CONTEXT): what a run keeps for audits and baseline matching but
nobody filters on, as one compact JSON value within MLflow's tag limit. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gate.carbon.intensity import intensity_provenance
from gate.energy.model import RunSummary
from gate.tracking.names import LEGACY_TAG_HARDWARE_JSON, MAX_TAG_VALUE_CHARS, TAG_CONTEXT

if TYPE_CHECKING:
    from gate.tracking.record import RunFacts, RunIdentity

CONTEXT_FORMAT = 1


def run_context(identity: RunIdentity, facts: RunFacts, summary: RunSummary) -> dict[str, Any]:
    """What a run keeps for audits and baseline matching but nobody filters on (the TAG_CONTEXT JSON):
    the hardware, how each energy scope was obtained, the carbon intensity's provenance (enough to
    recompute gCO2eq), the benchmark's settings, the budget file and its hash, the CI event."""
    context: dict[str, Any] = {
        "format": CONTEXT_FORMAT,
        "kind": facts.kind,
        "warmup": facts.warmup,
        "timeout_s": facts.timeout_s,
        "budget_file": facts.budget_file,
        "hardware": dict(facts.hardware),
        "scopes": {
            s.scope: {
                "provenance": s.provenance,
                "method": s.method,
                "gated": s.gated,
                **({"attribution": s.attribution} if s.attribution else {}),
                **({"calibration": list(s.calibration)} if s.calibration else {}),
                **({"counter_staleness_s": list(s.counter_staleness_s)} if s.counter_staleness_s else {}),
            }
            for s in summary.scopes
        },
    }
    if summary.intensity is not None:
        context["intensity"] = intensity_provenance(summary.intensity)
    optional = {
        "base_branch": identity.base_branch,
        "budget_sha256": facts.budget_sha256,
        "event": identity.event_name,
        "ci_run_url": identity.ci_run_url,
    }
    context.update({k: v for k, v in optional.items() if v})
    return context


def encode_context(context: Mapping[str, Any], limit: int = MAX_TAG_VALUE_CHARS) -> str:
    """Compact JSON within MLflow's tag limit, never cut mid-way: when too long, the intensity's
    fallback notes go first, then the hardware keeps only its fingerprint."""

    def dump(data: Mapping[str, Any]) -> str:
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    data = dict(context)
    if len(dump(data)) > limit and isinstance(data.get("intensity"), dict) and data["intensity"].get("fallback"):
        data["intensity"] = {**data["intensity"], "fallback": ["(left out: too long for an MLflow tag)"]}
    if len(dump(data)) > limit and isinstance(data.get("hardware"), dict):
        data["hardware"] = {"fingerprint": data["hardware"].get("fingerprint", ""), "truncated": True}
    return dump(data)


def decode_context(tags: Mapping[str, str]) -> dict[str, Any]:
    """A run's context (run_context()); {} when missing or not JSON. Runs of the first schema kept
    their hardware in its own tag: it is read from there."""
    context = _json_object(tags.get(TAG_CONTEXT)) or {}
    if "hardware" not in context:
        legacy = _json_object(tags.get(LEGACY_TAG_HARDWARE_JSON))
        if legacy is not None:
            context["hardware"] = legacy
    return context


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
