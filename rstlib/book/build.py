"""Execute the book's notebooks with papermill and render them with Jupyter Book.

    python -m rstlib.book.build --execute [--profile laptop] [--yes]   # run every page, then render
    python -m rstlib.book.build --execute --in-place                    # refresh the committed pages
    python -m rstlib.book.build                                         # render the committed pages

Before executing, it prints what the run store already holds and what will be computed, priced
on this device; more than one device-hour of new work needs `--yes` (`make book CONFIRM=1`).
Each page is written once, as a MyST Markdown notebook (`book/<page>.md`, paired with its
executed `book/<page>.ipynb` by jupytext). Pages are executed from the `.md` in the order of
`_toc.yml` with the intro last (it collects the other pages' records), into `book/_build/src/`
(never the tracked notebooks, unless `--in-place`), and rendered from there into
`book/_build/html/`. Each page's progress lines (runs started, epochs, evaluations) stream to
stderr.
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

from rstlib.config.profile import ConfigError, default_profile_name, load_profile
from rstlib.paper.plan import work_ahead
from rstlib.store.runstore import RunStore

ROOT = Path(__file__).resolve().parents[2]


def pages(book_dir: Path) -> list[str]:
    toc = yaml.safe_load((book_dir / "_toc.yml").read_text())
    return [c["file"] for c in toc.get("chapters", [])] + [toc["root"]]


BOOK_FILES = ("_config.yml", "_toc.yml")


def source(book_dir: Path, page: str):
    """The page's notebook as written (`<page>.md`, MyST Markdown), with no outputs."""
    import jupytext

    notebook = jupytext.read(book_dir / f"{page}.md", fmt="md:myst")
    for i, cell in enumerate(notebook.cells):
        cell.id = f"{page.replace('_', '-')}-{i}"  # the same ids every execution: no churn in the committed notebooks
    return notebook


def execute(
    book_dir: Path, profile: str | None, out_dir: Path | None = None, only: list[str] | None = None, log_output: bool = False
) -> dict[str, float]:
    """Run every page of `book_dir` (from its `.md`) with papermill into `out_dir` (default: the
    tracked `.ipynb` beside it); returns the wall time of each, in seconds. The pages' stderr
    (progress lines) streams to ours."""
    import papermill

    os.environ["RST_BOOK_BUILD"] = "1"  # the pages' kernels write the book's records (see Page.record)
    out_dir = out_dir or book_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if out_dir != book_dir:
        for name in BOOK_FILES + tuple(f"{page}.ipynb" for page in pages(book_dir)):
            shutil.copy2(book_dir / name, out_dir / name)  # pages not executed now render as committed
        if (book_dir / "_static").is_dir():
            shutil.copytree(book_dir / "_static", out_dir / "_static", dirs_exist_ok=True)
    params = {"profile": profile} if profile else {}
    times = {}
    for page in pages(book_dir):
        if only and page not in only:
            continue
        t = time.time()
        print(f"executing {page} ...", flush=True)
        papermill.execute_notebook(
            source(book_dir, page),
            str(out_dir / f"{page}.ipynb"),
            parameters=params,
            kernel_name="python3",
            cwd=str(ROOT),
            log_output=log_output,
            progress_bar=False,
            stderr_file=sys.stderr,
            kernel_manager_class=ipc_kernel_manager(),
        )
        times[page] = time.time() - t
        print(f"  {page}: {times[page]:.1f} s", flush=True)
    return times


def ipc_kernel_manager() -> type:
    """nbclient's kernel manager talking to the page's kernel over local IPC sockets instead of
    TCP (ipykernel warns that TCP is unencrypted; IPC files are private to this user)."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

    return IPCKernelManager


def render(book_dir: Path, output: Path | None = None) -> Path:
    """`jupyter-book build -W` (warnings are errors) of the notebooks in `book_dir` into
    `output/_build/html` (default: `book_dir/_build/html`); execution is off in _config.yml."""
    output = output or book_dir
    for stale in ("html", ".doctrees", "jupyter_execute"):
        shutil.rmtree(output / "_build" / stale, ignore_errors=True)
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(exe) if exe.exists() else "jupyter-book",
        "build",
        "-W",
        "-n",
        "--keep-going",
        str(book_dir),
        "--path-output",
        str(output),
    ]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    index = output / "_build" / "html" / "index.html"
    print(f"book: {index}")
    return index


def bill(profile_name: str | None, device: str = "auto"):
    """What executing every page will load and compute at the profile, priced here."""
    return work_ahead(load_profile(profile_name or default_profile_name()), RunStore(), device=device)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run every page with papermill first")
    parser.add_argument("--profile", default=None, help="default: paper with CUDA, else laptop")
    parser.add_argument("--book", default=str(ROOT / "book"))
    parser.add_argument("--only", default=None, help="comma-separated pages to execute")
    parser.add_argument(
        "--in-place", action="store_true", help="execute into the tracked notebooks (to refresh the committed book)"
    )
    parser.add_argument("--yes", action="store_true", help="start even when the new work exceeds one device-hour")
    parser.add_argument("--no-render", action="store_true")
    args = parser.parse_args(argv)
    book_dir = Path(args.book)
    source = book_dir
    if args.execute:
        try:
            ahead = bill(args.profile)
        except ConfigError as e:
            print(f"make book: error: {e}", file=sys.stderr)
            return 2
        print(ahead.report(), flush=True)
        if ahead.needs_confirmation() and not args.yes:
            print(
                f"make book: stopped before starting: more than one device-hour of new work. Start it with "
                f"`make book CONFIRM=1` (or `python -m rstlib.book.build --execute --yes`), or run it as a "
                f"sweep first (`rst sweep --profile {ahead.profile} --dry-run`).",
                file=sys.stderr,
            )
            return 3
        source = book_dir if args.in_place else book_dir / "_build" / "src"
        try:
            times = execute(book_dir, args.profile, out_dir=source, only=args.only.split(",") if args.only else None)
        except KeyboardInterrupt:  # Ctrl-C: papermill has stopped the kernel and saved the page so far
            print(
                f"make book: interrupted; the page being run keeps its outputs so far in {source}, and its "
                "training runs resume from their last checkpoints when the book is built again",
                file=sys.stderr,
            )
            return 130
        print(
            "wall time per page (s): "
            + ", ".join(f"{k} {v:.0f}" for k, v in times.items())
            + f"; total {sum(times.values()) / 60:.1f} min"
        )
    if not args.no_render:
        render(source, book_dir)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main())
