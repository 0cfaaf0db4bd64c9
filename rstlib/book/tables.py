"""One table style for the book: every DataFrame a page displays is rendered by `html` (pandas
Styler), once `install()` has registered it with the page's IPython.

- headers in the paper's words ("AutoAttack, ε = 24/255", "C1: best RST − dense"), never code
  identifiers; row labels of the same vocabulary (RST variants as the paper names them);
- no 0..N index column (an index with a name, such as a transfer matrix's sources, is kept);
- one number format per column: one decimal, two where every value is below 5 in size (standard
  errors, small gaps), signed where the column is a difference; "–" for a missing cell;
- verdicts as coloured badges; differences coloured by sign.
"""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd

from rstlib.paper.words import label

BADGES = {
    "holds": "holds",
    "does not hold": "fails",
    "inconclusive": "open",
    "not testable": "untested",
    "no numbers": "untested",
}
DIFFERENCE = re.compile(r"−|minus|difference|gap|^C[123]\b|advantage|gain", re.I)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


COUNTS = re.compile(r"ratio|images|seed|epoch|quer|steps|batch|width|runs|\(%\)$|^n$", re.I)


def _column_format(name, values: pd.Series):
    """How one column's cells are written: counts and labels plainly, measurements with one
    decimal (two when every value is below 5 in size), differences signed."""
    numbers = [float(v) for v in values if _is_number(v) and not math.isnan(float(v))]
    measured = any(isinstance(v, float) for v in values)  # by content: a pivot can leave object columns
    if not numbers or not measured or COUNTS.search(str(name)):
        return _plain
    digits = 2 if max(abs(v) for v in numbers) < 5 else 1
    signed = bool(DIFFERENCE.search(str(name))) or min(numbers) < 0
    return lambda v: _number(v, digits, signed)


def _number(v, digits: int, signed: bool) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if not _is_number(v):
        return _plain(v)
    text = f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    if signed:
        tone = "pos" if v > 0 else "neg" if v < 0 else "zero"
        return f'<span class="rst-diff rst-{tone}">{text.replace("-", "−")}</span>'
    return text


def _plain(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float) and v.is_integer():
        return f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    text = label(v) if isinstance(v, str) else str(v)
    for mark in ("✓ ", "✗ ", "? ", "– "):
        if text.startswith(mark) and text[2:] in BADGES:
            return f'<span class="rst-verdict rst-{BADGES[text[2:]]}">{text}</span>'
    if text in ("nan", "None", "NaN", "<NA>"):
        return "–"
    return f'<span class="rst-text">{text}</span>' if isinstance(v, str) else text


def html(df: pd.DataFrame) -> str:
    """`df` as the book's table (see the module doc)."""
    columns = [tuple(_header(x) for x in c) if isinstance(c, tuple) else _header(c) for c in df.columns]
    plain = [tuple(label(x) for x in c) if isinstance(c, tuple) else label(c) for c in df.columns]  # what a format reads
    cells = pd.DataFrame(
        {i: [_column_format(plain[i], df.iloc[:, i])(v) for v in df.iloc[:, i]] for i in range(df.shape[1])}, index=df.index
    )
    cells.columns = (
        pd.MultiIndex.from_tuples(columns, names=df.columns.names)
        if isinstance(df.columns, pd.MultiIndex)
        else pd.Index(columns, name=label(df.columns.name))
    )
    default_index = isinstance(df.index, pd.RangeIndex) and df.index.name is None
    if not default_index:
        cells.index = (
            pd.Index(
                [tuple(label(v) for v in x) if isinstance(x, tuple) else label(x) for x in df.index], name=label(df.index.name)
            )
            if df.index.nlevels == 1
            else pd.MultiIndex.from_tuples(
                [tuple(label(v) for v in x) for x in df.index], names=[label(n) for n in df.index.names]
            )
        )
    styler = cells.style.set_uuid(hashlib.sha1(df.to_csv().encode()).hexdigest()[:8])  # the same page, the same ids
    if default_index:
        styler = styler.hide(axis="index")
    return _labelled(styler.set_table_attributes('class="rst-table"').to_html(), cells.columns)


HYPHENATED = re.compile(r"(\S*[-‑]\S*)")


def _header(name) -> str:
    """A column header in the paper's words, a hyphenated word kept on one line ("PGD-20", not
    "PGD-" over "20", when a narrow screen wraps the header)."""
    text = label(name)
    return HYPHENATED.sub(r'<span class="rst-word">\1</span>', text) if isinstance(text, str) else text


DATA_CELL = re.compile(r'<td (id="[^"]*" )?class="data row\d+ col(\d+)" ?>')


def _labelled(table: str, columns: pd.Index) -> str:
    """Each data cell carries its column's header (`data-label`): on a phone a claims table is shown
    as one card per row (book/_static/custom.css), each value under its header."""

    def header(i: int) -> str:
        c = columns[i]
        text = " · ".join(str(x) for x in c if str(x)) if isinstance(c, tuple) else str(c)
        return re.sub(r"<[^>]+>", "", text).replace('"', "&quot;")

    return DATA_CELL.sub(lambda m: m.group(0)[:-1].rstrip() + f' data-label="{header(int(m.group(2)))}">', table)


def install():
    """Render every DataFrame the running IPython displays with `html` (a no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, html)
