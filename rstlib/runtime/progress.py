"""Progress bars only where a person watches: on a terminal. Into a pipe or a log file (papermill,
a sweep, `rst search 2> log.txt`) no bar is drawn; the one-line announcements (`train.announce`)
say what happens instead, one line per run, epoch and evaluation."""

from __future__ import annotations

import sys
from typing import Iterable, TypeVar

T = TypeVar("T")


def on_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stderr
        return False


def bar(iterable: Iterable[T], enabled: bool = True, **tqdm_options) -> Iterable[T]:
    """`iterable` wrapped in a tqdm bar when `enabled` and stderr is a terminal; else unchanged."""
    if not (enabled and on_terminal()):
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, leave=False, **tqdm_options)
