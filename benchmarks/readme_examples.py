"""How long the README's Python examples take on this machine (issue 36: each example states its
time on 2 cores). Not a test: it runs each block of README.md marked `<!-- readme-example: NAME -->`
as written, in a fresh interpreter (so that imports and loading count, as for a newcomer), and
prints its wall time and what it printed.

    .venv/bin/python benchmarks/readme_examples.py [--only first-attack,autoattack]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = re.compile(r"<!-- readme-example: ([\w-]+) -->\n```python\n(.*?)```", re.S)


def examples(readme: Path = ROOT / "README.md") -> dict[str, str]:
    """The README's marked Python examples, by name."""
    return dict(MARK.findall(readme.read_text()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="comma-separated example names")
    args = parser.parse_args(argv)
    found = examples()
    names = args.only.split(",") if args.only else list(found)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    print(f"{os.cpu_count()} CPU cores; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    for name in names:
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", found[name]], cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.time() - t0
        status = "ok" if out.returncode == 0 else f"exit {out.returncode}: {out.stderr.strip().splitlines()[-1:]}"
        print(f"{name}: {seconds:.0f} s ({status})")
        for line in out.stdout.strip().splitlines():
            print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
