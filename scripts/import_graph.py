"""The import graph of rstlib/ (every `import rstlib...` / `from rstlib... import`, at module level
or inside functions), its cycles, and each module's size.

    .venv/bin/python scripts/import_graph.py          # prints the graph in layers, cycles, sizes
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "rstlib"


def imports(path: Path) -> tuple[set[str], set[str]]:
    """(module-level, function-level) rstlib modules imported by `path`."""
    tree = ast.parse(path.read_text())
    top, inner = set(), set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rstlib":
            if node.module == "rstlib":
                names = [a.name for a in node.names]
            else:
                names = [node.module.split(".")[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("rstlib.")]
        target = top if node in tree.body or any(node is n for n in ast.iter_child_nodes(tree)) else inner
        target.update(n for n in names if (PACKAGE / f"{n}.py").is_file())
    return top, inner - top


def graph() -> dict[str, set[str]]:
    out = {}
    for path in sorted(PACKAGE.glob("*.py")):
        top, inner = imports(path)
        out[path.stem] = (top | inner) - {path.stem}
    return out


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
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


def main() -> int:
    g = graph()
    lv = layers(g)
    for layer in range(max(lv.values()) + 1):
        mods = sorted(m for m, v in lv.items() if v == layer)
        print(f"layer {layer}: " + ", ".join(f"{m} ({len((PACKAGE / f'{m}.py').read_text().splitlines())})" for m in mods))
    found = cycles(g)
    print("cycles: " + ("; ".join(" -> ".join(c) for c in found) if found else "none"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
