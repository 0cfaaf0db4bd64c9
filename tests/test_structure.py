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
