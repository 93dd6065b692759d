"""What a pull request changed in the budget file, as the keys it changed. Pure.

In the two-half check the base branch's budget judges; the pull request's budget only ran the
measurement. A pull request that changes its limits, baseline, experiment, benchmark names or
`pass_env` is named as such in the comment, so a reviewer sees what the PR tried to change.
"""

from __future__ import annotations

from typing import Any

MAX_SHOWN = 20


def changed_keys(base: Any, pull: Any, at: str = "") -> list[str]:
    """The dotted key paths whose values differ between two parsed budgets; benchmarks by name."""
    if isinstance(base, dict) and isinstance(pull, dict):
        out: list[str] = []
        for key in [*base, *(k for k in pull if k not in base)]:
            where = f"{at}.{key}" if at else str(key)
            if key not in pull:
                out.append(f"{where} (removed)")
            elif key not in base:
                out.append(f"{where} (added)")
            elif key == "benchmarks" and not at:
                out += _benchmarks(base[key], pull[key])
            else:
                out += changed_keys(base[key], pull[key], where)
        return out
    return [] if base == pull else [at or "(the whole file)"]


def _benchmarks(base: Any, pull: Any) -> list[str]:
    if not (isinstance(base, list) and isinstance(pull, list)):
        return changed_keys(base, pull, "benchmarks")
    base_named, pull_named = _by_name(base), _by_name(pull)
    if base_named is None or pull_named is None:
        return [] if base == pull else ["benchmarks"]
    out: list[str] = []
    for name, spec in base_named.items():
        if name not in pull_named:
            out.append(f"benchmarks[{name}] (removed or renamed)")
        else:
            out += changed_keys(spec, pull_named[name], f"benchmarks[{name}]")
    out += [f"benchmarks[{name}] (added)" for name in pull_named if name not in base_named]
    return out


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    named = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        named[item["name"]] = item
    return named


def describe(changes: list[str], budget_file: str) -> str:
    """One note for the report and the comment."""
    shown = ", ".join(changes[:MAX_SHOWN])
    more = f" and {len(changes) - MAX_SHOWN} more" if len(changes) > MAX_SHOWN else ""
    return (
        f"This pull request changes {budget_file}: {shown}{more}. It was judged with the base branch's "
        "budget; the changes take effect once merged."
    )
