"""The default templates live in the repository's top-level `templates/` folder and ship inside the
wheel (so in the container image, which installs it): the package finds them from a source checkout
and from an installed wheel alike."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gate.output import report
from tests.commands.test_comment import fail_document

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ("report.md.j2", "pr_comment.md.j2", "init/green-budget.yml.j2", "init/green-gate.yml.j2")


def test_a_source_checkout_renders_from_the_top_level_templates_folder() -> None:
    assert report.template_dir() == ROOT / "templates"
    assert all((ROOT / "templates" / name).is_file() for name in TEMPLATES)
    assert not (ROOT / "gate" / "templates").exists()  # nothing to shadow them in a checkout


@pytest.mark.slow
def test_the_wheel_carries_the_templates_and_renders_with_them(tmp_path: Path) -> None:
    hatchling = pytest.importorskip("hatchling.builders.wheel", reason="hatchling (in the test extra) builds offline")
    builder = hatchling.WheelBuilder(str(ROOT))
    (built,) = builder.build(directory=str(tmp_path / "dist"), versions=["standard"])
    wheel = Path(built)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {f"gate/templates/{name}" for name in TEMPLATES} <= names
        assert not any(name.startswith("templates/") for name in names)  # inside the package only
        archive.extractall(tmp_path / "site")
    (tmp_path / "result.json").write_text(json.dumps(fail_document()))
    # The extracted wheel as the only copy of the package on the path, away from the checkout.
    script = (
        "import json, sys; from gate.output import report; "
        "print(report.template_dir()); "
        "sys.stdout.write(report.render(json.load(open('result.json')), 'pr_comment.md.j2'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    where, _, text = done.stdout.partition("\n")
    assert Path(where) == tmp_path / "site" / "gate" / "templates"
    assert text == report.render(fail_document(), "pr_comment.md.j2")
