"""The package's structure: no import cycles (module-level or inside functions)."""
import importlib.util

from conftest import ROOT


def test_the_import_graph_of_rstlib_has_no_cycles():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    graph = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(graph)
    g = graph.graph()
    assert "store" in g and "train" not in g["store"] and "runner" not in g["store"]  # the store only stores
    assert not (g["config"] & {"data", "inits", "models"}) or not any(
        "config" in g[m] for m in ("data", "inits", "models"))  # registries below config, not beside it
    assert graph.cycles(g) == []


def test_the_gpu_check_runs_every_command_and_every_attack(tmp_path):
    """benchmarks/gpu_check.py is the one command that exercises the package on a GPU: it must
    not fall behind the CLI."""
    from benchmarks.gpu_check import commands
    from rstlib.cli_parser import build_parser
    from rstlib.evaluation import ATTACKS
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    ran = commands("cpu", tmp_path)
    assert set(sub.choices) <= {args[0] for _, args, _ in ran}
    evaluated = {args[args.index("--attack") + 1] for _, args, _ in ran if "--attack" in args}
    assert evaluated == set(ATTACKS)
