"""Where a release publishes the budget schema: the file in this repository at the release's tag.

`https://raw.githubusercontent.com/<repository>/v<version>/<path>` exists for every tagged release
and never changes after it, so a budget written by `green-gate init` keeps validating against the
schema of the gate that wrote it. The schema's `$id` is this URL for the package's version (a test
holds them together, so a version bump updates both). `green-gate validate` checks offline, against
the schema inside the package.
"""

from __future__ import annotations

REPOSITORY = "green-gate/green-gate"  # as in action.yml's `uses:` examples and the image name
BUDGET_SCHEMA_PATH = "gate/config/green-budget.v1.schema.json"
RESULT_SCHEMA_PATH = "gate/output/result.v1.schema.json"
RAW_BASE = "https://raw.githubusercontent.com"


def schema_url(version: str, path: str = BUDGET_SCHEMA_PATH) -> str:
    """The schema file at the release tag `v<version>`."""
    return f"{RAW_BASE}/{REPOSITORY}/v{version}/{path}"


def latest_schema_url(path: str = BUDGET_SCHEMA_PATH) -> str:
    """The schema on the default branch: what the SchemaStore catalog entry points at (v1 only grows)."""
    return f"{RAW_BASE}/{REPOSITORY}/main/{path}"


def reference_url(anchor: str = "budget-reference-green-budgetyml-version-1") -> str:
    """The budget reference in the README on the project's page: where hints send a reader, since the
    package installs no README."""
    return f"https://github.com/{REPOSITORY}#{anchor}"
