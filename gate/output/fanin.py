"""Many result documents (a matrix of jobs, the nodes of a multi-node run) as one. Pure, no I/O.

The merged document has the shape of one result (the templates, the check run and the job summary
read it unchanged), plus `fanin`: which legs were expected, which reported, and on what. Each
benchmark keeps its own row, with `where` saying which leg, runner and hardware ran it: results of
different hardware are never averaged. The one exception is a multi-node run: the nodes of one run
(the same `context.node_group`) measured one benchmark together, so their energies are summed and
its items counted once (the rank 0 node's count).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gate.compare import verdict as verdicts

# Figures of one run that add up over the nodes that ran it together; the duration is the longest
# node's, and the intensity is the grid's (the same for every node in one place).
SUMMED_METRICS = ("energy_j", "energy_kwh", "emissions_g", "mean_power_w")
_WORST_STATUS = {"skip": 0, "pass": 1, "warn": 2, "fail": 3}


@dataclass(frozen=True)
class Source:
    """One result document and where it was read from (a path, for messages)."""

    path: str
    document: dict[str, Any]


class FanInError(ValueError):
    """Results that cannot be one verdict (another commit, another pull request)."""


def leg_name(document: dict[str, Any]) -> str:
    """What a result calls its matrix leg: `context.leg` (GREEN_GATE_LEG), else the job id, else the hardware."""
    context = document.get("context") or {}
    for key in ("leg", "job"):
        value = context.get(key)
        if isinstance(value, str) and value:
            return value
    return str((document.get("hardware") or {}).get("description") or "unnamed")


def merge(sources: Sequence[Source], expected: Sequence[str] = ()) -> dict[str, Any]:
    """One result document for all of `sources`; `expected`: the legs that should have reported."""
    if not sources:
        raise FanInError("no result files to merge")
    _same_change(sources)
    legs: dict[str, list[Source]] = {}
    for source in sources:
        legs.setdefault(leg_name(source.document), []).append(source)
    benchmarks: list[dict[str, Any]] = []
    leg_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for name, members in legs.items():
        groups = {_node_group(s.document) for s in members}
        if len(members) > 1 and (None in groups or len(groups) > 1):
            notes.append(f"{len(members)} results name the leg {name!r}: each is shown, none merged")
        row, rows_notes, leg_benchmarks = _leg(name, members)
        leg_rows.append(row)
        notes += rows_notes
        benchmarks += leg_benchmarks
    wanted = list(dict.fromkeys(e for e in expected if e))
    missing = [e for e in wanted if e not in legs]
    unexpected = [n for n in legs if wanted and n not in wanted]
    if unexpected:
        notes.append(f"not in --expect: {', '.join(unexpected)} (reported all the same)")
    overall = verdicts.worst([r["verdict"] for r in leg_rows] + (["error"] if missing else []))
    first = sources[0].document
    merged: dict[str, Any] = {
        "format": first.get("format", 1),
        "gate_version": first.get("gate_version", ""),
        "verdict": overall,
        "exit_code": None,
        "complete": all(s.document.get("complete", True) for s in sources) and not missing,
        "created_at": max(str(s.document.get("created_at") or "") for s in sources),
        "budget_file": first.get("budget_file"),
        "tracking_uri": first.get("tracking_uri"),
        "context": _shared_context(first.get("context") or {}),
        "hardware": _shared_hardware([s.document for s in sources]),
        "notes": notes + _document_notes(sources),
        "error": None,
        "benchmarks": benchmarks,
        "fanin": {
            "expected": wanted,
            "reported": [r["leg"] for r in leg_rows],
            "missing": missing,
            "legs": leg_rows,
            "summary": reported_line(len(leg_rows), wanted, missing),
        },
    }
    return merged


def reported_line(reported: int, expected: Sequence[str], missing: Sequence[str]) -> str:
    """'2 of 3 jobs reported; gpu-l4 did not' (or '3 jobs reported' when nothing was expected)."""
    if not expected:
        return f"{reported} job{'s' if reported != 1 else ''} reported"
    line = f"{len(expected) - len(missing)} of {len(expected)} jobs reported"
    if missing:
        line += f"; {', '.join(missing)} did not"
    return line


def _same_change(sources: Sequence[Source]) -> None:
    """Every result must be about the same commit (and pull request): one verdict is about one change."""
    for key in ("commit", "pr_number"):
        seen: dict[Any, str] = {}
        for source in sources:
            value = (source.document.get("context") or {}).get(key)
            seen.setdefault(value, source.path)
        if len(seen) > 1:
            shown = "; ".join(f"{str(v)[:12]} in {p}" for v, p in seen.items())
            raise FanInError(f"the results are about different {key.replace('_', ' ')}s: {shown}")


def _leg(name: str, members: list[Source]) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
    """The leg's row in the legs table, its notes and its benchmarks (a multi-node run's summed)."""
    documents = [s.document for s in members]
    group = _node_group(documents[0])
    notes: list[str] = []
    if group is not None and len(members) > 1 and all(_node_group(d) == group for d in documents):
        benchmarks, notes = _sum_nodes(name, group, documents)
    else:
        benchmarks = [_placed(b, d, name) for d in documents for b in d.get("benchmarks") or []]
    for document in documents:
        error = document.get("error")
        if isinstance(error, dict) and error.get("message"):
            notes.append(f"{name}: {error.get('title') or 'error'}: {error['message']}")
    leg_verdict = verdicts.worst([d.get("verdict", "error") for d in documents] + [b["verdict"] for b in benchmarks])
    first = documents[0]
    context = first.get("context") or {}
    nodes = _node_count(documents) if group is not None else None
    row = {
        "leg": name,
        "job": context.get("job"),
        "runner": ", ".join(dict.fromkeys(str(r) for d in documents if (r := (d.get("context") or {}).get("runner")))),
        "hardware": (first.get("hardware") or {}).get("description", "not detected"),
        "fingerprint": (first.get("hardware") or {}).get("fingerprint", "-"),
        "verdict": leg_verdict,
        "benchmarks": len(benchmarks),
        "nodes": nodes,
        "run_url": context.get("run_url"),
        "sources": [s.path for s in members],
    }
    return row, notes, benchmarks


def _placed(bench: dict[str, Any], document: dict[str, Any], leg: str, nodes: int | None = None) -> dict[str, Any]:
    placed = copy.deepcopy(bench)
    context = document.get("context") or {}
    hardware = document.get("hardware") or {}
    placed["where"] = {
        "leg": leg,
        "job": context.get("job"),
        "runner": context.get("runner"),
        "hardware": hardware.get("description", "not detected"),
        "fingerprint": hardware.get("fingerprint", "-"),
        "nodes": nodes,
    }
    return placed


def _node_group(document: dict[str, Any]) -> str | None:
    value = (document.get("context") or {}).get("node_group")
    return value if isinstance(value, str) and value else None


def _node_rank(document: dict[str, Any]) -> int:
    value = (document.get("context") or {}).get("node_rank")
    return value if isinstance(value, int) else 0


def _node_count(documents: list[dict[str, Any]]) -> int:
    counts = [c for d in documents if isinstance(c := (d.get("context") or {}).get("node_count"), int)]
    return max([len(documents), *counts])


def _sum_nodes(leg: str, group: str, documents: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The nodes of one multi-node run as one benchmark each: energies summed, items counted once."""
    documents = sorted(documents, key=_node_rank)
    ranks = [_node_rank(d) for d in documents]
    expected_nodes = _node_count(documents)
    notes: list[str] = []
    names = list(dict.fromkeys(str(b["name"]) for d in documents for b in d.get("benchmarks") or []))
    merged: list[dict[str, Any]] = []
    for name in names:
        parts = [
            (r, b)
            for r, d in zip(ranks, documents, strict=True)
            for b in d.get("benchmarks") or []
            if b["name"] == name
        ]
        bench = _placed(parts[0][1], documents[0], leg, nodes=len(parts))
        bench["metrics"] = _summed_metrics([b["metrics"] for _, b in parts])
        bases = [b.get("baseline") for _, b in parts]
        if all(isinstance(base, dict) for base in bases):
            base0 = copy.deepcopy(bases[0])
            base0["metrics"] = _summed_metrics([base["metrics"] for base in bases if isinstance(base, dict)])
            bench["baseline"] = base0
        else:
            bench["baseline"] = None
        bench["scopes"] = _summed_scopes([b.get("scopes") or [] for _, b in parts])
        bench["per_repeat"], bench["history"], bench["phases"] = {}, [], []
        bench["checks"] = _worst_checks([(r, b) for r, b in parts], bench)
        bench["verdict"] = verdicts.worst([b["verdict"] for _, b in parts])
        bench["error"] = "; ".join(f"node {r}: {b['error']}" for r, b in parts if b.get("error")) or None
        node_notes = [f"node {r}: {note}" for r, b in parts for note in b.get("notes") or []]
        summed = (
            f"{len(parts)} nodes of multi-node run {group} (ranks {', '.join(str(r) for r, _ in parts)}): "
            f"energy summed, items counted once (rank {parts[0][0]}'s), duration the longest node's"
        )
        if len(parts) < expected_nodes:
            summed += f"; {expected_nodes - len(parts)} of {expected_nodes} nodes did not report it"
            bench["verdict"] = "error"
            bench["error"] = bench["error"] or f"{len(parts)} of {expected_nodes} nodes reported"
        bench["notes"] = [summed, *node_notes]
        merged.append(bench)
    if len(documents) < expected_nodes:
        notes.append(f"{leg}: {len(documents)} of {expected_nodes} nodes of multi-node run {group} reported")
    return merged, notes


def _summed_metrics(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Energies and power summed over the nodes, the longest duration; J per item over rank 0's item count."""
    first = parts[0]
    out: dict[str, Any] = dict(first)
    for key in SUMMED_METRICS:
        values = [p.get(key) for p in parts]
        if key in first and all(isinstance(v, (int, float)) for v in values):
            out[key] = sum(values)
    durations = [p["duration_s"] for p in parts if isinstance(p.get("duration_s"), (int, float))]
    if durations:
        out["duration_s"] = max(durations)
    energy, per_item = first.get("energy_j"), first.get("energy_per_prediction_j")
    if isinstance(energy, (int, float)) and isinstance(per_item, (int, float)) and per_item > 0:
        items = energy / per_item  # rank 0's count: the run's items, however many nodes worked on them
        out["energy_per_prediction_j"] = out["energy_j"] / items
    return out


def _summed_scopes(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    by_scope: dict[str, dict[str, Any]] = {}
    for scopes in parts:
        for scope in scopes:
            seen = by_scope.get(scope["scope"])
            if seen is None:
                by_scope[scope["scope"]] = dict(scope)
            elif isinstance(seen.get("energy_j"), (int, float)) and isinstance(scope.get("energy_j"), (int, float)):
                seen["energy_j"] += scope["energy_j"]
    return list(by_scope.values())


def _worst_checks(parts: list[tuple[int, dict[str, Any]]], bench: dict[str, Any]) -> list[dict[str, Any]]:
    """Per metric and rule, the worst node's check, its change now that of the summed figures."""
    worst: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for rank, part in parts:
        for check in part.get("checks") or []:
            key = (check["metric"], check["rule"])
            if key not in worst or _WORST_STATUS[check["status"]] > _WORST_STATUS[worst[key][1]["status"]]:
                worst[key] = (rank, check)
    base = (bench.get("baseline") or {}).get("metrics") or {}
    out = []
    for (metric, _), (rank, check) in worst.items():
        kept = {k: v for k, v in check.items() if not k.startswith(("geomean_", "cv_", "interval_", "job_noise_"))}
        current, before = bench["metrics"].get(metric), base.get(metric)
        if check["rule"] == "relative":
            kept["change_pct"] = (current / before - 1) * 100 if isinstance(current, (int, float)) and before else None
        if len(parts) > 1 and check["status"] in ("warn", "fail"):
            kept["reason"] = f"node {rank}: {check['reason']}"
        out.append(kept)
    return out


def _shared_context(context: dict[str, Any]) -> dict[str, Any]:
    """The change's context (commit, PR, repository), without what tells one job from another."""
    per_job = ("job", "leg", "runner", "runner_os", "runner_arch", "node_group", "node_rank", "node_count")
    return {k: v for k, v in context.items() if k not in per_job}


def _shared_hardware(documents: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = {str((d.get("hardware") or {}).get("fingerprint", "-")): d.get("hardware") or {} for d in documents}
    if len(kinds) == 1:
        return dict(next(iter(kinds.values())))
    described = "; ".join(dict.fromkeys(str(h.get("description", "not detected")) for h in kinds.values()))
    return {"description": f"{len(kinds)} kinds of hardware: {described}", "fingerprint": "several"}


def _document_notes(sources: Sequence[Source]) -> list[str]:
    out: list[str] = []
    for source in sources:
        for note in source.document.get("notes") or []:
            tagged = f"{leg_name(source.document)}: {note}"
            if tagged not in out:
                out.append(tagged)
    return out
