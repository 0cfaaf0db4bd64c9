"""Figures of the book: annotated transfer heatmaps (Figs. 4, 5) and accuracy-vs-ratio lines
(Figs. 1, 2, 3, 6), drawn at the book's content width (about 7.4 in) with fonts of at least
11 pt at that width, and every label in the paper's words (`rstlib.paper.words.label`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from rstlib.paper.words import label

WIDTH = 7.4  # inches: the book's content column at 100 dpi
FONT = 11  # points, at that width
ZOOM_POINTS = 3  # a zoom-in panel is drawn only when it holds at least this many ratios


def _style():
    plt.rcParams.update(
        {
            "font.size": FONT,
            "axes.titlesize": FONT,
            "axes.labelsize": FONT,
            "xtick.labelsize": FONT,
            "ytick.labelsize": FONT,
            "legend.fontsize": FONT,
            "figure.titlesize": FONT + 1,
            "figure.dpi": 100,
        }
    )


def heatmaps(matrices: dict[str, pd.DataFrame], title: str, cols: int = 2):
    """One annotated heatmap per panel (rows = attack source, columns = target), one shared
    colour bar; a colour map light enough for dark annotations to read everywhere."""
    _style()
    n = len(matrices)
    size = max((len(m) for m in matrices.values()), default=1)
    cols = 1 if n == 1 or size > 5 else min(cols, n)
    rows = (n + cols - 1) // cols
    panel = WIDTH / cols
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 0.85 * panel * rows + 0.6), squeeze=False)
    for ax, (name, m) in zip(axes.flat, matrices.items()):
        sns.heatmap(
            m.astype(float),
            annot=True,
            fmt=".1f",
            cmap="YlGnBu",
            cbar=False,
            ax=ax,
            vmin=0,
            vmax=100,
            annot_kws={"size": FONT if size <= 5 or cols == 1 else FONT - 1},
            linewidths=0.5,
            linecolor="white",
            square=True,
        )
        ax.set_title(name)
        ax.set_xlabel("target (remaining ratio)")
        ax.set_ylabel("attack source")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    bar = fig.add_axes((0.92, 0.15, 0.02, 0.7))
    fig.colorbar(axes.flat[0].collections[0], cax=bar, label="accuracy (%)")
    plt.close(fig)  # shown once, by the caller's display(), not again by the inline backend
    return fig


def _zoom_panels(df: pd.DataFrame, zoom_below: float | None) -> list[tuple[str, bool]]:
    panels = [(p, False) for p in dict.fromkeys(df["panel"])]
    if zoom_below is None:
        return panels
    return [
        q
        for p, _ in panels
        for q in ((p, False), (p, True))
        if not q[1] or df[(df["panel"] == p) & (df["ratio"] <= zoom_below)]["ratio"].nunique() >= ZOOM_POINTS
    ]


def ratio_lines(df: pd.DataFrame, y: str, hue: str, title: str, ylabel: str, cols: int = 2, zoom_below: float | None = None):
    """Accuracy vs remaining ratio, one panel per `panel` value, one line per `hue` (named in the
    paper's words, one legend for the figure); with `zoom_below`, each panel is followed by a
    zoom-in on the ratios <= zoom_below (the paper's 1-20% insets of Figs. 2 and 3) where it holds
    at least ZOOM_POINTS ratios."""
    _style()
    df = df.assign(**{hue: df[hue].map(label)})
    panels = _zoom_panels(df, zoom_below)
    cols = min(cols, len(panels))
    rows = (len(panels) + cols - 1) // cols
    order = list(dict.fromkeys(df[hue]))
    legend_rows = (len(order) + 1) // 2
    height = 3.3 * rows + 0.5 + 0.3 * legend_rows
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, height), squeeze=False)
    for ax, (panel, zoom) in zip(axes.flat, panels):
        sub = df[df["panel"] == panel]
        if zoom:
            sub = sub[sub["ratio"] <= zoom_below]
        sns.lineplot(data=sub, x="ratio", y=y, hue=hue, hue_order=order, marker="o", ax=ax, legend=False)
        ax.set_xscale("log")
        ticks = sorted(sub["ratio"].unique())
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("remaining ratio (%)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{panel}: ratios ≤ {zoom_below:g}%" if zoom else panel)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    colours = sns.color_palette(n_colors=len(order))
    handles = [plt.Line2D([], [], color=c, marker="o", label=name) for c, name in zip(colours, order)]
    fig.suptitle(title)
    fig.tight_layout(rect=(0, (0.3 * legend_rows + 0.1) / height, 1, 1))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(order), 2), frameon=False)
    plt.close(fig)
    return fig


def scale_lines(trend: pd.DataFrame, paper_updates: int | None = None, cols: int = 2):
    """The headline claims against the search budget (`scale.trend_table`): one panel per claim
    and attack, score updates on a log axis, one line per width with its 95% band shaded, the
    claim's threshold dashed and, where given, the paper's budget marked."""
    _style()
    panels = list(dict.fromkeys(zip(trend["claim"], trend["judged under"])))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 2.6 * rows + 0.4), squeeze=False)
    palette = sns.color_palette("colorblind")
    for ax, (claim, attack) in zip(axes.flat, panels):
        df = trend[(trend["claim"] == claim) & (trend["judged under"] == attack) & trend["gap"].notna()]
        for i, (width, w) in enumerate(df.groupby("width")):
            w = w.sort_values("score updates")
            ax.plot(w["score updates"], w["gap"], "o-", color=palette[i], label=f"width x{width:g}")
            ax.fill_between(
                w["score updates"],
                w["band from"].astype(float),
                w["band to"].astype(float),
                color=palette[i],
                alpha=0.2,
                linewidth=0,
            )
        threshold = float(trend[(trend["claim"] == claim)]["threshold"].iloc[0])
        ax.axhline(threshold, color="0.3", linestyle="--", linewidth=1, label="the claim's threshold")
        if paper_updates:
            ax.axvline(paper_updates, color="0.6", linestyle=":", linewidth=1, label="the paper's budget")
        ax.set_xscale("log")
        ax.set_title(f"{claim} ({attack}): holds at >= {threshold:+g}")
        ax.set_xlabel("score updates of the search")
        ax.set_ylabel("gap (points)")
    spare = list(axes.flat)[len(panels) :]
    for ax in spare:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if spare:  # the legend in the empty panel
        spare[0].legend(handles, labels, loc="center", frameon=False)
    else:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), frameon=False)
    fig.suptitle("The headline claims against the search budget (95% bands)")
    fig.tight_layout(rect=(0, 0 if spare else 0.06, 1, 1))
    plt.close(fig)
    return fig
