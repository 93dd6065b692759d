#!/usr/bin/env python3
"""Mutation testing of the decision core: does every change to the code that decides a verdict make
a test fail?

    nice -n 10 python benchmarks/mutation.py [--files gate/compare/verdict.py ...] [--limit N]
        [--seed S] [-j 1] [--timeout 60] [--lines 12 34] [--list]

Each mutant is one small change to one module's syntax tree (operators swapped, comparisons
flipped or moved across their boundary, `and`/`or` swapped, `not` dropped, numbers moved, a status
or policy word swapped for another, a filter's `=` made `!=`, an `if` branch or an `else` dropped, a
keyword argument dropped, a call statement dropped, max/min and all/any swapped). It is run against
the fast tests of its area (TESTS below) in a subprocess, in a private copy of the package and the
tests: the working tree is never written. A mutant is *killed* when those tests fail, error or time
out; it *survives* when they pass. Survivors are printed as file:line and the change; the ones that
cannot change anything observable are argued in docs/testing.md.

`--limit N` runs a sample of N mutants (drawn with `--seed`) instead of all of them; `-j` runs that
many at once (default 1: the check's machine is usually shared).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Module -> the fast tests of its area, run against each of its mutants.
TESTS: dict[str, tuple[str, ...]] = {
    "gate/compare/verdict.py": (
        "tests/compare/test_verdict.py",
        "tests/compare/test_decision_edges.py",
        "tests/compare/test_verdict_conditions.py",
        "tests/compare/test_verdict_disturbed.py",
        "tests/pipeline/test_decide.py",
        "tests/pipeline/test_decide_conditions.py",
        "tests/pipeline/test_adaptive.py",  # keep_measuring, as adaptive repeats ask it
    ),
    "gate/compare/stats.py": (  # the slow simulations of test_stats.py last
        "tests/compare/test_decision_edges.py",
        "tests/compare/test_verdict.py",
        "tests/compare/test_stats.py",
    ),
    "gate/compare/quality.py": ("tests/compare/test_quality.py", "tests/pipeline/test_decide.py"),
    "gate/compare/waivers.py": ("tests/compare/test_waivers.py",),
    "gate/compare/baseline_rules.py": ("tests/compare/test_baseline_rules.py", "tests/pipeline/test_decide.py"),
    "gate/compare/model.py": ("tests/compare/test_model.py", "tests/compare/test_verdict.py"),
    "gate/compare/conditions.py": (
        "tests/compare/test_conditions.py",
        "tests/compare/test_verdict_conditions.py",
        "tests/pipeline/test_decide_conditions.py",
    ),
    "gate/compare/cases.py": ("tests/compare/test_cases.py",),
    "gate/pipeline/decide.py": ("tests/pipeline/test_decide.py", "tests/pipeline/test_decide_conditions.py"),
    "gate/tracking/filters.py": ("tests/tracking/test_filters.py",),
}
DEFAULT_FILES = tuple(TESTS)


def unmapped() -> list[str]:
    """Modules of gate/compare/ missing from TESTS: the whole package decides, so a module the map
    misses would leave the audit silently."""
    found = (p.relative_to(ROOT).as_posix() for p in (ROOT / "gate" / "compare").glob("*.py"))
    return sorted(f for f in found if f not in TESTS and not f.endswith("/__init__.py"))


_COMPARE_SWAPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    # (the boundary moved, the comparison negated)
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
_SYMBOL = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
# A status or policy word swapped for the next one: what a policy or a check says.
_WORDS = {"pass": "warn", "warn": "fail", "fail": "pass", "skip": "pass", "error": "fail", "drop": "keep"}
# Pieces of a search filter's grammar, changed inside strings.
_FILTER_TEXT = ((" = ", " != "), (" >= ", " > "), (" AND ", " OR "))
_NAME_SWAPS = {"max": "min", "min": "max", "all": "any", "any": "all"}


@dataclass(frozen=True)
class Mutant:
    file: str
    site: int  # index of the node among the module's mutable sites
    variant: int  # which of that site's mutations
    line: int
    description: str


Apply = Callable[[], None]


def _type_only(tree: ast.Module) -> set[int]:
    """ids of nodes the program never evaluates: annotations, docstrings, Literal[...] arguments, asserts."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            mark(node.returns)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                mark(body[0])
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal":
            mark(node)
        if isinstance(node, ast.Assert | ast.ImportFrom | ast.Import):
            mark(node)
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Subscript)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "Literal"
        ):
            mark(node)
    return skip


def _mutations(node: ast.AST, parent: ast.AST | None) -> list[tuple[str, Apply]]:
    """The mutations of one node, each as (description, a function that applies it in place)."""
    found: list[tuple[str, Apply]] = []
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
        binop = _BINOP_SWAPS[type(node.op)]
        found.append((f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[binop]}", lambda: setattr(node, "op", binop())))
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in _COMPARE_SWAPS.get(type(op), ()):

                def swap(i: int = i, new: type[ast.cmpop] = new) -> None:
                    node.ops[i] = new()

                found.append((f"{_SYMBOL[type(op)]} -> {_SYMBOL[new]}", swap))
    elif isinstance(node, ast.BoolOp):
        new_op: type[ast.boolop] = ast.Or if isinstance(node.op, ast.And) else ast.And
        words = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        found.append((f"{words[0]} -> {words[1]}", lambda: setattr(node, "op", new_op())))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        word = "not" if isinstance(node.op, ast.Not) else "unary -"
        found.append((f"{word} dropped", lambda: _replace(parent, node, node.operand)))
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            found.append((f"{value} -> {not value}", lambda: setattr(node, "value", not value)))
        elif isinstance(value, int | float):
            moved = value + 1
            found.append((f"{value!r} -> {moved!r}", lambda: setattr(node, "value", moved)))
        elif isinstance(value, str):
            if value in _WORDS:
                word = _WORDS[value]
                found.append((f"{value!r} -> {word!r}", lambda: setattr(node, "value", word)))
            for old, new_text in _FILTER_TEXT:
                if old in value:
                    changed = value.replace(old, new_text, 1)
                    found.append((f"{old.strip()!r} -> {new_text.strip()!r} in a string", _setter(node, changed)))
    elif isinstance(node, ast.If):
        found.append(("if-branch dropped (condition False)", lambda: setattr(node, "test", ast.Constant(False))))
        if node.orelse:
            found.append(("else-branch dropped (condition True)", lambda: setattr(node, "test", ast.Constant(True))))
    elif isinstance(node, ast.IfExp):
        found.append(("conditional expression: always the else value", lambda: _replace(parent, node, node.orelse)))
        found.append(("conditional expression: always the if value", lambda: _replace(parent, node, node.body)))
    elif isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg is not None:

                def drop(keyword: ast.keyword = keyword) -> None:
                    node.keywords.remove(keyword)

                found.append((f"keyword {keyword.arg}= dropped", drop))
        if isinstance(node.func, ast.Name) and node.func.id in _NAME_SWAPS:
            name = _NAME_SWAPS[node.func.id]
            found.append((f"{node.func.id}() -> {name}()", lambda: setattr(node.func, "id", name)))
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and parent is not None:
        found.append(("call statement dropped", lambda: _replace(parent, node, ast.Pass())))
    return found


def _setter(node: ast.Constant, value: str) -> Apply:
    return lambda: setattr(node, "value", value)


def _replace(parent: ast.AST | None, old: ast.AST, new: ast.AST) -> None:
    """Put `new` where `old` is among `parent`'s fields."""
    assert parent is not None
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise ValueError("node not found under its parent")


def _sites(tree: ast.Module) -> Iterator[tuple[ast.AST, ast.AST | None]]:
    """Every node with its parent, in a fixed order, leaving out what is never evaluated."""
    skip = _type_only(tree)
    stack: list[tuple[ast.AST, ast.AST | None]] = [(tree, None)]
    while stack:
        node, parent = stack.pop(0)
        if id(node) in skip:
            continue
        yield node, parent
        stack.extend((child, node) for child in ast.iter_child_nodes(node))


def mutants_of(file: str) -> list[Mutant]:
    tree = ast.parse((ROOT / file).read_text())
    return [
        Mutant(file, site, variant, getattr(node, "lineno", 0), description)
        for site, (node, parent) in enumerate(_sites(tree))
        for variant, (description, _) in enumerate(_mutations(node, parent))
    ]


def mutant_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / mutant.file).read_text())
    for site, (node, parent) in enumerate(_sites(tree)):
        if site == mutant.site:
            _, apply = _mutations(node, parent)[mutant.variant]
            apply()
            break
    return ast.unparse(ast.fix_missing_locations(tree))


# --- running -----------------------------------------------------------------------------------


# Runs in each workspace: imports pytest and the package's dependencies once, forgets the package and
# its tests, then forks a child per request that imports them afresh (the mutant included) and runs
# pytest. A child that outlives its timeout is killed.
_SERVER = """
import json, os, signal, sys, time
import pytest
import gate.pipeline.decide, gate.compare.quality, gate.compare.waivers, gate.tracking.filters, tests.conftest
for name in list(sys.modules):
    if name.split(".")[0] in ("gate", "tests"):
        del sys.modules[name]
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 1)
        os.dup2(log, 2)
        try:
            code = int(pytest.main(request["args"]))
        except BaseException:
            code = 3
        os._exit(code)
    deadline = time.monotonic() + request["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            outcome = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            outcome = "timeout"
            break
        time.sleep(0.01)
    print(json.dumps(outcome), flush=True)
"""


class Workspace:
    """A private copy of the package and its tests: a mutant is written here, never in the tree."""

    _mtime = int(time.time()) + 10

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="gate-mutants-"))
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for name in ("gate", "tests"):
            shutil.copytree(ROOT / name, self.path / name, ignore=ignore)
        shutil.copy2(ROOT / "pyproject.toml", self.path / "pyproject.toml")
        env = {**os.environ, "PYTHONPATH": str(self.path), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        self.server = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            cwd=self.path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, tests: tuple[str, ...], timeout_s: float, mutant: Mutant | None = None) -> str:
        """'killed', 'killed (timeout)', 'killed (crash)', 'survived', or 'unchanged' (no mutant after all)."""
        target = self.path / mutant.file if mutant else None
        if mutant and target:
            source = mutant_source(mutant)
            if source == ast.unparse(ast.parse((ROOT / mutant.file).read_text())):
                return "unchanged"
            self._write(target, source)
        log = self.path / "pytest.log"
        # The server loads no plugin by itself (autoload off), so the project's addopts (xdist's
        # `-n auto`) would not parse: they are cleared, and each mutant's tests run in one process.
        args = ["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-m", "not slow", *tests]
        try:
            assert self.server.stdin is not None and self.server.stdout is not None
            self.server.stdin.write(json.dumps({"args": args, "timeout": timeout_s, "log": str(log)}) + "\n")
            self.server.stdin.flush()
            answer = json.loads(self.server.stdout.readline())
        finally:
            if mutant and target:
                self._write(target, (ROOT / mutant.file).read_text())
        if mutant is None and answer != 0:
            raise SystemExit(f"the unmutated tests fail ({answer}):\n{log.read_text()[-3000:]}")
        if answer == "timeout":
            return "killed (timeout)"
        return {0: "survived", 1: "killed"}.get(answer, "killed (crash)")

    @staticmethod
    def _write(target: Path, source: str) -> None:
        target.write_text(source)
        Workspace._mtime += 2  # a new mtime: Python never reuses the bytecode of another version
        os.utime(target, (Workspace._mtime, Workspace._mtime))

    def remove(self) -> None:
        if self.server.stdin is not None:
            self.server.stdin.close()
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
        shutil.rmtree(self.path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", nargs="+", default=list(DEFAULT_FILES), help="modules to mutate")
    parser.add_argument("--limit", type=int, default=None, help="run a random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="mutants run at once")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant before it counts as killed")
    parser.add_argument("--lines", type=int, nargs="+", default=None, help="only the mutants on these lines")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)

    missing = unmapped()
    if missing:
        parser.error(f"no tests mapped for {', '.join(missing)}: add the module and its fast tests to TESTS")
    unknown = [f for f in args.files if f not in TESTS]
    if unknown:
        parser.error(f"no tests mapped for {', '.join(unknown)}; known: {', '.join(TESTS)}")
    mutants = [m for f in args.files for m in mutants_of(f) if args.lines is None or m.line in args.lines]
    if args.limit is not None and args.limit < len(mutants):
        mutants = sorted(random.Random(args.seed).sample(mutants, args.limit), key=lambda m: (m.file, m.site))
    if args.list:
        for m in mutants:
            print(f"{m.file}:{m.line}: {m.description}")
        return 0

    # A terminated run still removes its copies (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    spaces = [Workspace() for _ in range(max(1, args.jobs))]
    free = list(spaces)
    lock = threading.Lock()
    outcomes: dict[Mutant, str] = {}
    started = time.monotonic()
    try:
        for f in sorted(set(args.files)):
            spaces[0].run(TESTS[f], args.timeout * 5)  # the tests pass before anything is mutated

        def one(mutant: Mutant) -> None:
            with lock:
                space = free.pop()
            try:
                outcome = space.run(TESTS[mutant.file], args.timeout, mutant)
            finally:
                with lock:
                    free.append(space)
                    outcomes[mutant] = outcome
                    if outcome == "survived":  # at once, so a long run can be read while it goes on
                        print(f"\nsurvived: {mutant.file}:{mutant.line}: {mutant.description}", flush=True)
                    else:
                        print(".", end="" if len(outcomes) % 60 else "\n", flush=True)

        with ThreadPoolExecutor(max_workers=len(spaces)) as pool:
            list(pool.map(one, mutants))
    finally:
        for space in spaces:
            space.remove()
    print()
    return report(mutants, outcomes, time.monotonic() - started)


def report(mutants: list[Mutant], outcomes: dict[Mutant, str], elapsed_s: float) -> int:
    mutants = [m for m in mutants if outcomes[m] != "unchanged"]
    print(f"{'file':<34} {'mutants':>7} {'killed':>7} {'survived':>8}")
    for f in sorted({m.file for m in mutants}):
        mine = [m for m in mutants if m.file == f]
        alive = sum(outcomes[m] == "survived" for m in mine)
        print(f"{f:<34} {len(mine):>7} {len(mine) - alive:>7} {alive:>8}")
    survivors = sorted((m for m in mutants if outcomes[m] == "survived"), key=lambda m: (m.file, m.line, m.site))
    killed = len(mutants) - len(survivors)
    score = 100.0 * killed / len(mutants) if mutants else 100.0
    counts = f"{killed} of {len(mutants)} killed, {len(survivors)} survived"
    print(f"\nmutation score {score:.1f}%: {counts} ({elapsed_s:.0f} s)")
    if survivors:
        print("\nsurvivors:")
        for m in survivors:
            print(f"  {m.file}:{m.line}: {m.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
