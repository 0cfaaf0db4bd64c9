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

EXACT = {
    "pgd20": "PGD-20", "cw_l2": "CW-L2", "natural": "natural", "strong": "strong (ours)",
    "dense_adv_trained": "dense (adversarial)", "dense_nat_trained": "dense (natural)",
    "C1_best_rst_minus_dense": "C1: best RST − dense (PGD-20)", "C1_strong": "C1: best RST − dense (strong)",
    "C2_offdiag_minus_diag": "C2: off-diagonal − diagonal", "C3_r2s_minus_dense": "C3: R2S − dense (PGD-20)",
    "C3_strong": "C3: R2S − dense (strong)", "dense_pgd20": "dense, PGD-20", "dense_strong": "dense, strong",
    "pgd20_protocol": "PGD-20 (paper's protocol)", "pgd20_eot_loss": "EOT loss, CE (ours)",
    "pgd20_eot_logits": "EOT logits, CE (ours)", "pgd20_eot_loss_margin": "EOT loss, margin (ours)",
    "pgd20_eot_logits_margin": "EOT logits, margin (ours)", "autoattack_rand": "AutoAttack rand (ours)",
    "remaining_ratio_pct": "ratio (%)", "n_test": "test images", "n_images": "images", "run_id": "run",
    "candidate_set": "candidate set", "candidate_sets": "candidate sets", "same_ratio_other_seed":
    "same ratio, other seed", "attack_source": "attack source", "attack_source_run": "attack source run",
    "table2_ratios": "Table 2 ratios", "train_attack": "training attack", "finetune_weights": "fine-tuned weights",
    "bandits_queries": "Bandits queries", "acc": "accuracy (%)", "rst": "RST",
    "FT_RST_Inherit": "fine-tuned RST (inherited)", "FT_RST_Reinit": "fine-tuned RST (re-initialised)",
    "Adv_RTT": "adversarial RTT", "Natural_RTT": "natural RTT",
    "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "svhn": "SVHN",
    "cnn_small": "SmallCNN", "resnet18": "ResNet-18", "wrn34_10": "WRN-34-10",
    "signed_kaiming_constant": "Signed Kaiming Constant", "kaiming_normal": "Kaiming Normal",
    "kaiming_uniform": "Kaiming Uniform", "xavier_normal": "Xavier Normal",
}
PATTERNS = [
    (re.compile(r"^autoattack_eps([\d.]+)$"), r"AutoAttack, ε = \1/255"),
    (re.compile(r"^cw_inf_eps([\d.]+)$"), r"CW-Inf, ε = \1/255"),
    (re.compile(r"^bandits_eps([\d.]+)$"), r"Bandits, ε = \1/255"),
    (re.compile(r"^rst_([\d.]+)$"), r"RST @ \1%"),
    (re.compile(r"^Adv_RTT transferred from (.+)$"), r"adversarial RTT transferred from \1"),
    (re.compile(r"^rtt \(from adv on (.+)\)$"), r"adversarial RTT (drawn on \1)"),
    (re.compile(r"^rtt \(from adv\)$"), "adversarial RTT"),
    (re.compile(r"^rtt \(from nat\)$"), "natural RTT"),
    (re.compile(r"^search, (.+)$"), r"RST (\1)"),
    (re.compile(r"^search$"), "RST"),
]
BADGES = {"holds": "holds", "does not hold": "fails", "inconclusive": "open", "not testable": "untested"}
DIFFERENCE = re.compile(r"−|minus|difference|gap|^C[123]\b|advantage|gain", re.I)


def label(text) -> str:
    """A header or row label in the paper's words."""
    if not isinstance(text, str):
        return text if not isinstance(text, float) or not text.is_integer() else f"{text:g}"
    if text in EXACT:
        return EXACT[text]
    for pattern, replacement in PATTERNS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", text):  # any other identifier: its words
        return text.replace("_", " ")
    return text


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
    columns = [tuple(label(x) for x in c) if isinstance(c, tuple) else label(c) for c in df.columns]
    cells = pd.DataFrame({i: [_column_format(columns[i], df.iloc[:, i])(v) for v in df.iloc[:, i]]
                          for i in range(df.shape[1])}, index=df.index)
    cells.columns = (pd.MultiIndex.from_tuples(columns, names=df.columns.names)
                     if isinstance(df.columns, pd.MultiIndex) else pd.Index(columns, name=label(df.columns.name)))
    default_index = isinstance(df.index, pd.RangeIndex) and df.index.name is None
    if not default_index:
        cells.index = pd.Index([tuple(label(v) for v in x) if isinstance(x, tuple) else label(x) for x in df.index],
                               name=label(df.index.name)) if df.index.nlevels == 1 else \
            pd.MultiIndex.from_tuples([tuple(label(v) for v in x) for x in df.index],
                                      names=[label(n) for n in df.index.names])
    styler = cells.style.set_uuid(hashlib.sha1(df.to_csv().encode()).hexdigest()[:8])  # the same page, the same ids
    if default_index:
        styler = styler.hide(axis="index")
    return styler.set_table_attributes('class="rst-table"').to_html()


def install():
    """Render every DataFrame the running IPython displays with `html` (a no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, html)
