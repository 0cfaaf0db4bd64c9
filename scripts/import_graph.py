"""The import graph of rstlib/ (every `import rstlib...` / `from rstlib... import`, at module level
or inside functions), its cycles, its layers, each module's size, and the imports that break the
package's layering (the core never imports the reproduction, the book or the command line).

    .venv/bin/python scripts/import_graph.py          # prints the graph in layers, cycles, sizes, breaches
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rstlib"
# the layers of the package, lowest first: a subpackage imports only from its own layer or below
CORE = ("errors", "config", "nets", "runtime", "data", "attacks", "train", "evaluation", "store", "results_table")
UPPER = {"paper": CORE, "book": (*CORE, "paper"), "cli": (*CORE, "paper", "book")}
MAX_LINES = 300  # a module longer than this does more than one job (the "about 300")


def module_name(path: Path) -> str:
    """'paper.claims.noise' for rstlib/paper/claims/noise.py; a package's __init__ is the package."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(dotted: str, known: dict[str, Path]) -> str | None:
    """The rstlib module that `rstlib.<dotted>` names (its longest known prefix)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in known:
            return name
    return None


def imports(path: Path, known: dict[str, Path] | None = None) -> tuple[set[str], set[str]]:
    """(module-level, function-level) rstlib modules imported by `path`."""
    known = known or modules()
    tree = ast.parse(path.read_text())
    top, inner = set(), set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rstlib":
            base = node.module.partition(".")[2]
            # `from rstlib.paper import sections`: the submodule where one is named, else the package
            names = [(f"{base}.{a.name}" if base else a.name) for a in node.names]
            names = [n if _resolve(n, known) == n else base for n in names]
        elif isinstance(node, ast.Import):
            names = [a.name.partition(".")[2] for a in node.names if a.name.startswith("rstlib.")]
        target = top if any(node is n for n in ast.iter_child_nodes(tree)) else inner
        target.update(r for r in (_resolve(n, known) for n in names if n) if r)
    return top, inner - top


def graph() -> dict[str, set[str]]:
    known = modules()
    out = {}
    for name, path in known.items():
        top, inner = imports(path, known)
        out[name] = (top | inner) - {name}
    return out


def layer_of(module: str) -> str:
    return module.split(".")[0]


def breaches(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs that import upwards: the core importing paper / book / cli, or
    paper importing book / cli, or book importing cli. The top-level __init__ (the public API) may
    import anything."""
    out = []
    for m, deps in g.items():
        if m == "__init__":
            continue
        mine = layer_of(m)
        allowed = (*CORE, *({mine} if mine in UPPER else ()), *UPPER.get(mine, CORE))
        out += [(m, d) for d in sorted(deps) if layer_of(d) not in allowed and d != "__init__"]
    return sorted(out)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m) :] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)
    return found


def layers(g: dict[str, set[str]]) -> dict[str, int]:
    level: dict[str, int] = {}

    def depth(n, seen=()):
        if n in level:
            return level[n]
        if n in seen:
            return 0
        level[n] = 1 + max((depth(m, (*seen, n)) for m in g[n]), default=-1)
        return level[n]

    for n in g:
        depth(n)
    return level


def sizes() -> dict[str, int]:
    return {name: len(path.read_text().splitlines()) for name, path in modules().items()}


def main() -> int:
    g = graph()
    lv, size = layers(g), sizes()
    for layer in range(max(lv.values()) + 1):
        mods = sorted(m for m, v in lv.items() if v == layer)
        print(f"layer {layer}: " + ", ".join(f"{m} ({size[m]})" for m in mods))
    found, wrong = cycles(g), breaches(g)
    long = {m: n for m, n in size.items() if n > MAX_LINES}
    print("cycles: " + ("; ".join(" -> ".join(c) for c in found) if found else "none"))
    print("imports against the layers: " + (", ".join(f"{a} -> {b}" for a, b in wrong) if wrong else "none"))
    print(f"modules over {MAX_LINES} lines: " + (", ".join(f"{m} ({n})" for m, n in sorted(long.items())) or "none"))
    return 1 if found or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
