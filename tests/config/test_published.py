"""The schema URL `init` writes, the schemas' `$id`s and the SchemaStore catalog entry agree, and
name files that exist in this repository."""

from __future__ import annotations

import json
from pathlib import Path

from gate import __version__
from gate.config import published
from gate.config.load import load_schema

ROOT = Path(__file__).resolve().parents[2]
CATALOG_ENTRY = ROOT / "schemastore" / "catalog-entry.json"


def test_the_url_is_this_repositorys_file_at_the_release_tag() -> None:
    url = published.schema_url("1.2.3")
    assert url == (
        "https://raw.githubusercontent.com/green-gate/green-gate/v1.2.3/gate/config/green-budget.v1.schema.json"
    )
    assert (ROOT / published.BUDGET_SCHEMA_PATH).is_file() and (ROOT / published.RESULT_SCHEMA_PATH).is_file()


def test_each_schemas_id_is_its_url_at_this_version() -> None:
    assert load_schema()["$id"] == published.schema_url(__version__)
    result = json.loads((ROOT / published.RESULT_SCHEMA_PATH).read_text(encoding="utf-8"))
    assert result["$id"] == published.schema_url(__version__, published.RESULT_SCHEMA_PATH)


def test_the_catalog_entry_points_at_the_schema_and_matches_the_budget_file_name() -> None:
    entry = json.loads(CATALOG_ENTRY.read_text(encoding="utf-8"))
    assert set(entry) >= {"name", "description", "fileMatch", "url"}
    assert entry["url"] == published.latest_schema_url()
    assert entry["versions"][__version__] == published.schema_url(__version__)
    assert "green-budget.yml" in entry["fileMatch"]
