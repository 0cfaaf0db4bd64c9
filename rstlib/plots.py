"""Figures of the book: annotated transfer heatmaps (Figs. 4, 5) and accuracy-vs-ratio lines
(Figs. 1, 2, 3, 6), sized for the book's column width."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def heatmaps(matrices: dict[str, pd.DataFrame], title: str, cols: int = 2):
    """One annotated heatmap per panel: rows = attack source, columns = target."""
    n = len(matrices)
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.0 * rows), squeeze=False)
    for ax, (panel, m) in zip(axes.flat, matrices.items()):
        sns.heatmap(m.astype(float), annot=True, fmt=".1f", cmap="viridis", cbar=False, ax=ax,
                    annot_kws={"size": 8}, vmin=0, vmax=100)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("target (remaining ratio)")
        ax.set_ylabel("attack source")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    plt.close(fig)  # shown once, by the caller's display(), not again by the inline backend
    return fig


def ratio_lines(df: pd.DataFrame, y: str, hue: str, title: str, ylabel: str, cols: int = 2,
                zoom_below: float | None = None):
    """Accuracy vs remaining ratio, one panel per `panel` value, one line per `hue`; with
    `zoom_below`, each panel is followed by a zoom-in on the ratios <= zoom_below (the paper's
    1-20% insets of Figs. 2 and 3)."""
    panels = [(p, False) for p in dict.fromkeys(df["panel"])]
    if zoom_below is not None:
        panels = [q for p, _ in panels for q in ((p, False), (p, True))
                  if not q[1] or (df[df["panel"] == p]["ratio"] <= zoom_below).sum() > 0]
    cols = min(cols, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.8 * cols, 3.4 * rows), squeeze=False)
    for ax, (panel, zoom) in zip(axes.flat, panels):
        sub = df[df["panel"] == panel]
        if zoom:
            sub = sub[sub["ratio"] <= zoom_below]
        sns.lineplot(data=sub, x="ratio", y=y, hue=hue, marker="o", ax=ax)
        ax.set_xscale("log")
        ticks = sorted(sub["ratio"].unique())
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("remaining ratio (%)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{panel}: zoom-in, ratios <= {zoom_below:g}%" if zoom else panel, fontsize=10)
        ax.legend(fontsize=7, title=None)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    plt.close(fig)
    return fig
