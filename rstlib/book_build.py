"""Execute the book's notebooks with papermill and render them with Jupyter Book.

    python -m rstlib.book_build --execute [--profile laptop]   # run every page, then render
    python -m rstlib.book_build                                # render the executed pages as they are

Pages are executed in place (the executed copies are the ones the book renders), in the order of
`_toc.yml` with the intro last, since it collects the other pages' records.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pages(book_dir: Path) -> list[str]:
    toc = yaml.safe_load((book_dir / "_toc.yml").read_text())
    return [c["file"] for c in toc.get("chapters", [])] + [toc["root"]]


def execute(book_dir: Path, profile: str | None, out_dir: Path | None = None, only: list[str] | None = None,
            log_output: bool = False) -> dict[str, float]:
    """Run every page with papermill; returns the wall time of each, in seconds."""
    import papermill
    out_dir = out_dir or book_dir
    params = {"profile": profile} if profile else {}
    times = {}
    for page in pages(book_dir):
        if only and page not in only:
            continue
        t = time.time()
        print(f"executing {page} ...", flush=True)
        papermill.execute_notebook(str(book_dir / f"{page}.ipynb"), str(out_dir / f"{page}.ipynb"),
                                   parameters=params, kernel_name="python3", cwd=str(ROOT),
                                   log_output=log_output, progress_bar=False)
        times[page] = time.time() - t
        print(f"  {page}: {times[page]:.1f} s", flush=True)
    return times


def render(book_dir: Path) -> None:
    """`jupyter-book build -W` (warnings are errors); execution is off in _config.yml."""
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", "-W", "-n", "--keep-going", str(book_dir)]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    print(f"book: {book_dir / '_build' / 'html' / 'index.html'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run every page with papermill first")
    parser.add_argument("--profile", default=None, help="default: paper with CUDA, else laptop")
    parser.add_argument("--book", default=str(ROOT / "book"))
    parser.add_argument("--only", default=None, help="comma-separated pages to execute")
    parser.add_argument("--no-render", action="store_true")
    args = parser.parse_args(argv)
    book_dir = Path(args.book)
    if args.execute:
        times = execute(book_dir, args.profile, only=args.only.split(",") if args.only else None)
        print("wall time per page (s): " + ", ".join(f"{k} {v:.0f}" for k, v in times.items())
              + f"; total {sum(times.values()) / 60:.1f} min")
    if not args.no_render:
        shutil.rmtree(book_dir / "_build", ignore_errors=True)
        render(book_dir)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main())
