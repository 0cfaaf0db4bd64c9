"""The package's structure: subpackages in layers (the core never imports the reproduction, the
book or the command line), no import cycles (module-level or inside functions), small modules."""

import importlib.util

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_graph_of_rstlib_has_no_cycles(graph):
    g = graph.graph()
    store = {m for m in g if m.startswith("store.")}
    assert store and not any(d.startswith("train.") for m in store for d in g[m])  # the store only stores
    assert graph.cycles(g) == []


def test_no_module_does_more_than_one_job_in_more_than_300_lines(graph):
    assert {m: n for m, n in graph.sizes().items() if n > graph.MAX_LINES} == {}


def test_the_core_never_imports_the_reproduction_the_book_or_the_cli(graph):
    g = graph.graph()
    core = [m for m in g if graph.layer_of(m) in graph.CORE]
    assert {"nets.masking", "attacks.pgd", "train.loop", "evaluation.evaluator", "store.runstore"} <= set(core)
    assert graph.breaches(g) == []


def test_the_layer_check_sees_an_import_against_the_layers(graph):
    """The rule is not vacuous: an upward import (core -> paper, paper -> book) is reported."""
    g = {
        "train.loop": {"paper.sections", "nets.masking"},
        "paper.sections": {"book.tables"},
        "book.pages": {"paper.sections", "cli.main"},
        "cli.main": {"book.pages"},
        "__init__": {"paper.context"},
    }
    assert graph.breaches(g) == [("book.pages", "cli.main"), ("paper.sections", "book.tables"), ("train.loop", "paper.sections")]


def test_the_public_api_and_entry_points_resolve():
    """`import rstlib` names, the `rst` script and `python -m rstlib.book.build` after the move."""
    import tomllib

    import rstlib

    modules = {p.stem for p in (ROOT / "rstlib").iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}
    assert not set(rstlib.__all__) & modules  # a module of that name would replace the function once imported
    for name in rstlib.__all__:
        assert getattr(rstlib, name) is not None, name
    script = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["rst"]
    module, _, func = script.partition(":")
    assert callable(getattr(importlib.import_module(module), func))
    assert importlib.util.find_spec("rstlib.book.build") is not None


def test_the_gpu_check_runs_every_command_and_every_attack(tmp_path):
    """benchmarks/gpu_check.py is the one command that exercises the package on a GPU: it must
    not fall behind the CLI."""
    from benchmarks.gpu_check import commands
    from rstlib.attacks.registry import ATTACKS
    from rstlib.cli.parser import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    ran = commands("cpu", tmp_path)
    assert set(sub.choices) <= {args[0] for _, args, _ in ran}
    evaluated = {args[args.index("--attack") + 1] for _, args, _ in ran if "--attack" in args}
    assert evaluated == set(ATTACKS)


def test_the_core_imports_without_the_book_and_sweep_extras(graph):
    """`pip install -e .` (no extras) is enough for the core: importing every core module with the
    extras' packages blocked succeeds, and a blocked import is really refused (the test can fail)."""
    import subprocess
    import sys

    core = sorted(m for m in graph.graph() if graph.layer_of(m) in graph.CORE)
    blocked = ["matplotlib", "seaborn", "papermill", "jupytext", "jupyter_book", "nbformat", "IPython", "submitit"]
    script = f"""
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
for m in {core!r}:
    importlib.import_module("rstlib." + m if m != "__init__" else "rstlib")
try:
    import rstlib.book.plots
except ImportError as e:
    print("refused", e)
print("core ok")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "core ok" in out.stdout and "refused blocked: matplotlib" in out.stdout
