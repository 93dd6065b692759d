"""README.md and docs/*.md name only files, tests and modules that exist, so the docs follow the tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Folders of this repository whose paths the docs cite. Paths under `.github/` are left out: the docs
# also name files that `green-gate init` writes into the user's repository there.
TOP = r"(?:gate|tests|benchmarks|examples|docs|scripts|requirements|\.ci)"
# Not inside a longer path, a URL or a name such as `.green-gate/`.
START = r"(?<![\w./-])"
FILE = re.compile(START + rf"({TOP}/[\w/-]*\w(?:\.\w+)+)(?:::(\w+))?")
FOLDER = re.compile(START + rf"({TOP}/(?:[\w-]+/)*)(?![\w.<-])")
MODULE = re.compile(r"(?<![\w./-])gate(?:\.\w+)+")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def cited(doc: Path, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    return list(pattern.finditer(doc.read_text(encoding="utf-8")))


def defines(module: Path, name: str) -> bool:
    """Whether the module defines, assigns or imports `name` at its top level."""
    pattern = rf"^(?:async def|def|class) {name}\b|^{name}\b\s*[:=]|^(?:from .* )?import .*\b{name}\b"
    return re.search(pattern, module.read_text(encoding="utf-8"), re.M) is not None


def missing_module(dotted: str) -> str | None:
    """Why `gate.x.y[.attr]` names nothing in the tree, or None: the longest importable prefix must be
    a module that defines the first remaining name, or a package."""
    folder = ROOT / "gate"
    parts = dotted.split(".")[1:]
    for i, part in enumerate(parts):
        if (folder / part / "__init__.py").is_file():
            folder = folder / part
            continue
        module = folder / f"{part}.py"
        if module.is_file():
            rest = parts[i + 1 :]
            if rest and not defines(module, rest[0]):
                return f"{module.relative_to(ROOT)} defines no {rest[0]!r}"
            return None
        if not defines(folder / "__init__.py", part):
            return f"no module or package {'.'.join(['gate', *parts[: i + 1]])}"
        return None
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_files_and_tests_exist(doc: Path) -> None:
    problems = []
    for match in cited(doc, FILE):
        path, test = ROOT / match[1], match[2]
        if not path.is_file():
            problems.append(f"{match[1]}: no such file")
        elif test and not re.search(rf"^def {test}\(", path.read_text(encoding="utf-8"), re.M):
            problems.append(f"{match[0]}: no such test")
    for match in cited(doc, FOLDER):
        if not (ROOT / match[1]).is_dir():
            problems.append(f"{match[1]}: no such folder")
    assert not problems, f"{doc.name} cites what the repository does not have:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_modules_exist(doc: Path) -> None:
    problems = [f"{m[0]}: {why}" for m in cited(doc, MODULE) if (why := missing_module(m[0]))]
    assert not problems, f"{doc.name} names modules the package does not have:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    targets = [m[1] for m in cited(doc, LINK) if not re.match(r"[a-z][a-z+.-]*:", m[1])]
    problems = [t for t in targets if not (doc.parent / t).exists()]
    assert not problems, f"{doc.name} links to files that do not exist: {problems}"


def test_the_patterns_see_what_the_docs_write() -> None:
    text = "see `gate/compare/stats.py`, tests/fakes/traces.py and `gate/output/templates/`; not .green-gate/x.json"
    assert [m[1] for m in FILE.finditer(text)] == ["gate/compare/stats.py", "tests/fakes/traces.py"]
    assert [m[1] for m in FOLDER.finditer(text)] == ["gate/output/templates/"]
    assert [m[0] for m in MODULE.finditer("python -m gate.action; steps.gate.outputs; green-gate.json")] == [
        "gate.action"
    ]
    assert missing_module("gate.compare.verdict.evaluate") is None
    assert missing_module("gate.verdict") is not None
    assert missing_module("gate.compare.verdict.no_such_function") is not None
