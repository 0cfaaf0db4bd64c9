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


def test_the_core_never_imports_the_reproduction_the_book_or_the_cli(graph):
    g = graph.graph()
    core = [m for m in g if graph.layer_of(m) in graph.CORE]
    assert {"nets.masking", "attacks.pgd", "train.loop", "evaluate.evaluator", "store.runstore"} <= set(core)
    assert graph.breaches(g) == []


def test_the_layer_check_sees_an_import_against_the_layers(graph):
    """The rule is not vacuous: an upward import (core -> paper, paper -> book) is reported."""
    g = {"train.loop": {"paper.sections", "nets.masking"}, "paper.sections": {"book.tables"},
         "book.pages": {"paper.sections", "cli.main"}, "cli.main": {"book.pages"}, "__init__": {"paper.context"}}
    assert graph.breaches(g) == [("book.pages", "cli.main"), ("paper.sections", "book.tables"),
                                 ("train.loop", "paper.sections")]


def test_the_public_api_and_entry_points_resolve():
    """`import rstlib` names, the `rst` script and `python -m rstlib.book.build` after the move."""
    import tomllib

    import rstlib
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
    from rstlib.cli.parser import build_parser
    from rstlib.evaluate.evaluator import ATTACKS
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    ran = commands("cpu", tmp_path)
    assert set(sub.choices) <= {args[0] for _, args, _ in ran}
    evaluated = {args[args.index("--attack") + 1] for _, args, _ in ran if "--attack" in args}
    assert evaluated == set(ATTACKS)
