"""Writes the book's notebooks (unexecuted) from one template per section, so that every page
has the same structure: parameters, validation, our tables beside the paper's, figures, claims.

    .venv/bin/python scripts/make_notebooks.py               # rewrites book/*.ipynb (outputs dropped)
    .venv/bin/python scripts/make_notebooks.py --text-only   # updates the text cells, keeps the outputs
"""
from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

BOOK = Path(__file__).resolve().parent.parent / "book"

COMMON_PARAMS = '''profile = None      # None: "paper" when CUDA is available, else "laptop"
device = "auto"     # auto | cpu | cuda
seed = 0            # seed of the random network (and of the data order)'''

SETUP = '''from IPython.display import Markdown, display
from rstlib import book, layout, plots, sections
page = book.Page(profile, device, seed)
check = sections.Context(page.profile, dry_run=True, seed=page.seed)   # validates the parameters, trains nothing
{call_dry}
display(Markdown(page.caveat()))
display(Markdown(page.ahead(check)))   # what is loaded from the run store, what is computed (and how long)'''

CLAIMS = '''display(Markdown("### Claims check\\n\\nEach claim of this section of the supplement, in its words, "
                 "judged by the stated rule: ✓ holds, ✗ does not hold, ? inconclusive (the threshold lies within "
                 "+- 2 standard errors of test-sample noise), – not testable at this profile (with the reason)."))
display(book.claims_check(result))
page.record("{name}", result)
display(Markdown(page.footer()))'''

def r2s_body(title: str, reference_table: str) -> str:
    """Tables 3 and 4 in the paper's layout, then the cells the paper prints beside ours."""
    return (f'display(Markdown("### {title}"))\n'
            'display(layout.r2s_table(result.tables["r2s"]))\n'
            'display(Markdown("### Beside the paper: ours (paper, difference)"))\n'
            f'display(layout.r2s_beside_paper(result.tables["r2s"], "{reference_table}", '
            'book.arch_lookup(), book.dataset_lookup()))')


PAGES = {
    "sec2_settings": {
        "title": "Sec. 2: search and attack settings of every profile",
        "intro": "The supplement's Sec. 2 settings are the `paper` profile. The tables below are generated from "
                 "`_config.yml`, the single source of every profile's settings, so they cannot drift from what ran. "
                 "Each profile states the arithmetic (precision) of every training kind; it is part of each run's "
                 "identity and never detected from the machine, so a run means the same on every machine. Every "
                 "profile trains every kind in fp32, like the original code, so the methods a table compares "
                 "share one precision; evaluation attacks always run in fp32.",
        "params": "",
        "body": [
            ('code', '''from IPython.display import Markdown, display
from rstlib import book
from rstlib.settings_tables import profile_tables
page = book.Page(profile, device, seed)
tables = profile_tables()
display(Markdown("### The profiles"))
display(tables["profiles"])
display(Markdown("### Training recipes (eps and steps in 1/255 pixel units)"))
display(tables["training"])
display(Markdown("### Data, networks and evaluation"))
display(tables["data"])
display(Markdown("### Ratios and candidate sets per section"))
display(tables["sections"])
display(Markdown("### Evaluation attacks"))
display(tables["attacks"])'''),
            ('md', "Differences from the paper's code that are deliberate: the input normalisation lives inside the "
                   "model and attacks work in [0, 1] pixel space (equivalent); `channels_last` memory layout where "
                   "the profile's fast path sets it (the same fp32 arithmetic, another kernel order); the mask keeps "
                   "`floor(r * n + 1/2)` weights per layer (exact for every ratio the paper uses); Bandits runs "
                   "with the paper's L-inf settings and a data prior scaled to 32x32 images; the laptop and smoke "
                   "profiles replace CIFAR with Fashion-MNIST and ResNet-18 with a 4-layer CNN."),
            ('code', 'display(Markdown(page.footer()))'),
        ],
    },
    "sec3_more_attacks": {
        "title": "Sec. 3: RSTs against more attacks (Table 1)",
        "intro": "RSTs found by PGD-7 search, and the adversarially trained dense network, under AutoAttack, "
                 "CW-L2, CW-Inf and the gradient-free Bandits, at two budgets (the paper's n=8 and n=12). "
                 "The paper's claim: RSTs are robust against all of them, not only against the PGD they were "
                 "searched with.",
        "params": '''networks = None     # None: the profile's networks (paper: ["resnet18", "wrn34_10"])
dataset = None      # None: the profile's first dataset (paper: "cifar10")
ratios = None       # None: the profile's (paper: [5, 10, 20, 30, 50, 70])
eps = None          # None: the profile's pair (paper: [8, 12], in 1/255)
n_test = None       # None: the profile's number of attacked test images
bandits_queries = None''',
        "call": "sections.sec3({ctx}, networks=networks, dataset=dataset, ratios=ratios, eps=eps, n_test=n_test, bandits_queries=bandits_queries)",
        "body": [
            ('code', '''ours = result.tables["table1"]
display(Markdown("### Table 1, ours (accuracy %; the paper's columns, then natural, PGD-20 and the strong figure)"))
display(layout.table1(ours))
eps_used = sections.parse_list(eps, "eps", float) or list(page.profile.sections.sec3.eps)
display(Markdown("### Beside the paper: ours (paper, difference); our eps pair maps onto the paper's n=8 / n=12"))
display(layout.table1_beside_paper(ours, eps_used, book.arch_lookup()))'''),
        ],
    },
    "sec4_natural_accuracy": {
        "title": "Sec. 4: natural accuracy of RSTs, fine-tuned RSTs and RTTs (Figs. 1-3)",
        "intro": "Fig. 1: RSTs from four weight initialisations. Fig. 2: RSTs vs fine-tuned RSTs (inherited or "
                 "re-initialised weights). Fig. 3: RSTs vs natural and adversarial RTTs. The supplement prints no "
                 "numbers for these figures; its text claims are checked at the end.",
        "params": '''networks = None     # None: the profile's (paper: ["resnet18", "wrn34_10"]; Fig. 1 uses the first)
datasets = None     # None: the profile's (paper: ["cifar10", "cifar100"])
ratios = None       # None: the profile's remaining ratios in %
inits = None        # None: all four (signed_kaiming_constant, kaiming_normal, kaiming_uniform, xavier_normal)''',
        "call": "sections.sec4({ctx}, networks=networks, datasets=datasets, ratios=ratios, inits=inits)",
        "body": [
            ('code', '''for name, hue, title, zoom in (("fig1", "init", "Fig. 1: natural accuracy of RSTs by initialisation", None),
                               ("fig2", "variant", "Fig. 2: RSTs vs fine-tuned RSTs", 20),
                               ("fig3", "variant", "Fig. 3: RSTs vs natural / adversarial RTTs", 20)):
    display(plots.ratio_lines(result.figures[name], "natural", hue, title, "natural accuracy (%)", zoom_below=zoom))
    display(result.tables[name].pivot_table(index=["panel", hue], columns="ratio", values="natural").round(2))
display(Markdown("### Fig. 1's initialisations under PGD-20 (ours: the robust ranking the supplement compares with)"))
display(result.tables["fig1"].pivot_table(index=["panel", "init"], columns="ratio", values="pgd20").round(2))'''),
        ],
    },
    "sec5_transferability": {
        "title": "Sec. 5: adversarial transferability between RSTs (Fig. 4, Table 2)",
        "intro": "PGD-20 examples crafted on the RST of each remaining ratio (rows), scored on every RST (columns), "
                 "all drawn from one random network. The diagonal is white-box robust accuracy. Table 2 attacks "
                 "RSTs from dense networks and from an RST of the same ratio drawn from another random network.",
        "params": '''networks = None     # None: the profile's networks
datasets = None     # None: the profile's datasets
ratios = None       # None: the profile's ratios for Fig. 4
table2_ratios = None  # None: the profile's (paper: [3, 5, 7, 10, 15, 20, 40, 60])''',
        "call": "sections.sec5({ctx}, networks=networks, datasets=datasets, ratios=ratios, table2_ratios=table2_ratios)",
        "body": [
            ('code', '''display(plots.heatmaps(result.figures["fig4"], "Fig. 4: PGD-20 transfer between RSTs (accuracy %)"))
display(Markdown("### The diagonal (white-box) beside the strong figure (ours: per example, the worst of PGD-20 on "
                 "the cross-entropy and on the CW margin loss, and APGD-T on the first "
                 f"{page.profile.evaluation.apgd_t_images} attacked images)"))
display(result.tables["fig4_diagonal"].round(2))'''),
            ('code', '''display(Markdown("### Beside the paper: Table 2, ours (paper, difference); rows: attack source, columns: target"))
display(layout.table2_beside_paper(result.tables["table2"]))'''),
        ],
    },
    "sec6_r2s": {
        "title": "Sec. 6: R2S with more candidate RST sets (Table 3)",
        "intro": "Random RST Switch: the adversary attacks one RST drawn at random from the candidate set, R2S "
                 "answers with one drawn at random from the same set (the paper's protocol: the mean of the transfer "
                 "matrix over the set). Beside it, our **adaptive** attacks, which the paper does not report: PGD-20 on "
                 "the expectation over the set (EOT of the loss, and of the logits), on the cross-entropy and on the "
                 "CW margin loss, AutoAttack's `rand` version (EOT over 20 draws) on a subset, and the **strong** "
                 "figure: per example, the worst of all of them. Stochastic defences often look stronger than they "
                 "are under non-adaptive attacks; read the paper's column beside the strong one.",
        "params": '''networks = None     # None: the profile's networks
datasets = None     # None: the profile's datasets
candidate_sets = None  # None: the profile's (paper: [[3,5,7,10], [3,5,7,10,15,20,30], [7,10,15,20,30]])
ratios = None       # one candidate set, e.g. [7, 10, 15, 20, 30]; overrides candidate_sets''',
        "call": "sections.sec6({ctx}, networks=networks, datasets=datasets, candidate_sets=candidate_sets, ratios=ratios)",
        "body": [
            ('code', r2s_body("Table 3, ours (accuracy %; dense = adversarially trained dense baseline)", "table3")),
        ],
    },
    "sec7_rtt_transferability": {
        "title": "Sec. 7: adversarial transferability between adversarial RTTs (Fig. 5)",
        "intro": "The same transfer matrix as Fig. 4, for adversarial RTTs: masks searched over the weights of one "
                 "adversarially trained dense network.",
        "params": '''network = None      # None: the profile's first network (paper: "resnet18")
datasets = None     # None: the profile's datasets
ratios = None       # None: the profile's ratios''',
        "call": "sections.sec7({ctx}, network=network, datasets=datasets, ratios=ratios)",
        "body": [
            ('code', '''display(plots.heatmaps(result.figures["fig5"], "Fig. 5: PGD-20 transfer between adversarial RTTs (accuracy %)"))
display(Markdown("### The diagonal (white-box) beside the strong figure (ours)"))
display(result.tables["fig5_diagonal"].round(2))'''),
        ],
    },
    "sec8_r2s_rtt": {
        "title": "Sec. 8: R2S on adversarial RTTs (Table 4)",
        "intro": "R2S with candidate sets of adversarial RTTs (all drawn from one adversarially trained network), "
                 "under the paper's protocol and under our adaptive EOT attack.",
        "params": '''network = None      # None: the profile's first network
datasets = None     # None: the profile's datasets
candidate_sets = None  # None: the profile's (paper: [[3,5,7,10], [3,5,7,10,15,20,40], [7,10,15,20,40]])
ratios = None       # one candidate set; overrides candidate_sets''',
        "call": "sections.sec8({ctx}, network=network, datasets=datasets, candidate_sets=candidate_sets, ratios=ratios)",
        "body": [
            ('code', r2s_body("Table 4, ours (accuracy %)", "table4")),
        ],
    },
    "sec9_cross_task": {
        "title": "Sec. 9: RSTs vs transferred adversarial RTTs across tasks (Fig. 6)",
        "intro": "All RSTs of both tasks are drawn from ONE random initialisation; each task's adversarial RTTs are "
                 "drawn from a network adversarially trained on the *other* task. The paper (CIFAR-10 and SVHN) "
                 "finds RSTs ahead by up to 2.75 points on SVHN.",
        "params": '''network = None      # None: the profile's first network
task_a = None       # None: the profile's first dataset (paper: "cifar10")
task_b = None       # None: the profile's second task (paper: "svhn")
ratios = None       # None: the profile's ratios''',
        "call": "sections.sec9({ctx}, network=network, task_a=task_a, task_b=task_b, ratios=ratios)",
        "body": [
            ('code', '''display(plots.ratio_lines(result.figures["fig6"], "pgd20", "variant",
                          "Fig. 6: RSTs vs transferred adversarial RTTs", "PGD-20 accuracy (%)"))
display(Markdown("### PGD-20 (the paper's column)"))
display(result.tables["fig6"].pivot_table(index=["panel", "variant"], columns="ratio", values="pgd20").round(2))
display(Markdown("### Strong figure (ours: per example, the worst of PGD-20 CE, PGD-20 margin and APGD-T on a subset)"))
display(result.tables["fig6"].pivot_table(index=["panel", "variant"], columns="ratio", values="strong").round(2))'''),
        ],
    },
}


EXPLORE_MD = """# Explore: the results as a table, your own figure, your own R2S set

Every run and every cached evaluation of the run store is one tidy table, `rstlib.results()`: it reads
the JSON files only, so on a fresh clone it needs no weights and trains nothing. Below: the table, a
figure the paper does not draw (robust accuracy against remaining ratio for every variant in one
plot), and an R2S candidate set of your choosing (`-p ratios "[5,10,30]"` with papermill), evaluated
from the cached RSTs (new sets compute only the cells that are missing)."""

EXPLORE_GPU = """## The same on a GPU at the paper profile

```python
import rstlib
profile = rstlib.load_profile("paper")            # CIFAR-10/100, ResNet-18 and WRN-34-10, 160 epochs
ctx = rstlib.Context(profile, device="cuda")
rsts = {f"{r}%": rstlib.search_config(profile, "cifar10", "resnet18", r) for r in (5, 7, 10, 15, 20, 30)}
ctx.r2s(rsts)                                     # trains what the store lacks (one run at a time), then evaluates
rstlib.results()                                  # the table above, now with the paper-profile rows
```

Train many runs at once with `rst sweep --profile paper --sections sec6 --executor slurm` (or `--executor
local` on a multi-GPU node); `rst sweep --profile paper --dry-run` prints what it would cost first."""

EXPLORE_CODE = '''import pandas as pd
from IPython.display import Markdown, display
import rstlib
from rstlib import book, plots, sections
page = book.Page(profile, device, seed)
p = page.profile
df = rstlib.results(page.ctx.store)
display(Markdown(f"`rstlib.results()`: **{len(df)} rows** (runs x measurements), {df.run_id.nunique()} runs, "
                 f"columns: {', '.join(df.columns)}"))
display(df.head(8))'''

EXPLORE_FIGURE = '''from rstlib.data import dataset_spec
d = p.datasets[0]
n_eval = min(p.eval_n_test or 10**9, dataset_spec(d).test_size)
# one row per run: its white-box PGD-20 figure at the largest image count (rstlib.results' view)
view = rstlib.results(page.ctx.store, attack="pgd20", white_box=True, dataset=d, profile=p.name)
mine = view[(view.eps == p.evaluation.eps) & (view.n_images == n_eval) & (view.kind != "dense")
            & (view.seed == page.seed)]
mine = mine.assign(panel=f"{d} (PGD-20, eps {p.evaluation.eps:g}/255)",
                   variant=[f"{k}" + (f" ({v})" if v not in ("-", None) else "") + (f", {i}" if k == "search" and i != "signed_kaiming_constant" else "")
                            for k, v, i in zip(mine.kind, mine.variant, mine.init)])
display(plots.ratio_lines(mine, "acc", "variant", "Robust accuracy against remaining ratio, every variant (ours)",
                          "PGD-20 accuracy (%)"))
display(mine.pivot_table(index="variant", columns="ratio", values="acc").round(2))'''

EXPLORE_R2S = '''chosen = sections.parse_ratios(ratios) or list(p.sections.sec5.ratios)
arch = next(iter(p.archs))
members = {f"{r:g}%": rstlib.search_config(p, d, arch, r, page.seed) for r in chosen}
check = sections.Context(p, dry_run=True, seed=page.seed)
check.r2s(members)
display(Markdown(page.ahead(check)))
row = page.ctx.r2s(members)
dense = rstlib.dense_config(p, d, arch, True, page.seed)
display(Markdown(f"### R2S over {{{', '.join(members)}}}"))
display(pd.DataFrame([{**{k: v for k, v in row.items() if k != "matrix"}, "dense PGD-20": page.ctx.accuracy(dense),
                       "dense strong": page.ctx.strong(dense)}]).round(2))
display(row["matrix"].round(2))'''

INTRO = {
    "title": "Robust Scratch Tickets: the supplement, reproduced",
    "params": '''seeds = [0, 1, 2]   # seeds of the C1-C3 summary''',
}


def _notebook(cells) -> nbformat.NotebookNode:
    for c in cells:  # code collapsed on the page (the parameters cell stays open), chatter to the log
        if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []):
            c.metadata["tags"] = list(dict.fromkeys(c.metadata.get("tags", []) + ["hide-input", "remove-stderr"]))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def intro_notebook() -> nbformat.NotebookNode:
    text = (Path(__file__).resolve().parent / "intro.md").read_text()
    cells = [new_markdown_cell(text),
             new_code_cell(COMMON_PARAMS + "\n" + INTRO["params"], metadata={"tags": ["parameters"]}),
             new_code_cell('''import pandas as pd
from IPython.display import Markdown, display
from rstlib import book, pages, sections
page = book.Page(profile, device, seed)
seeds = sections.parse_list(seeds, "seeds", int)
display(Markdown(page.caveat()))'''),
             new_markdown_cell("## How each page ran\n\nWall time per page as measured when it was executed "
                               "on this machine (training included where the run store did not hold the results; "
                               "a few seconds each when it did)."),
             new_code_cell('''recs = book.records(page.ctx.store.root, page.profile.name)
runs = pd.DataFrame([{"page": r["page"], "profile": r["profile"], "seed": r["seed"],
                      "wall time (min)": round(r["seconds"] / 60, 1) if r["seconds"] is not None else None,
                      "claims that hold": f"{sum(c['verdict'] == 'holds' for c in r['claims'])} / {len(r['claims'])}",
                      "git commit": r["git_commit"], "hardware": r["hardware"]} for r in recs])
display(runs)
if len(runs):
    display(Markdown(f"Total: **{runs['wall time (min)'].sum():.1f} min** of page execution."))'''),
             new_markdown_cell("## What the paper profile costs\n\nEvery run and evaluation the book needs at the "
                               "`paper` profile (`rst plan --profile paper`), priced in device-hours."),
             new_code_cell('''from rstlib.config import load_profile
from rstlib.plan import project
print(project(load_profile("paper")).report())'''),
             new_markdown_cell("## Headline claims over seeds\n\nC1 existence: the best RST at 5-30% minus the "
                               "adversarially trained dense network (>= -3 points). C2 poor transfer: mean "
                               "off-diagonal minus diagonal of the RST transfer matrix (>= 10). C3 R2S: R2S accuracy "
                               "(candidate set = the Fig. 4 ratios) minus dense (>= 5). Each is judged over the seeds: "
                               "it **holds** when mean +- 2 standard errors lies above the threshold, **does not "
                               "hold** when it lies below, and is **inconclusive** when the threshold falls inside. "
                               "C1 and C3 are judged twice: under PGD-20 on the cross-entropy (the paper's attack) and "
                               "under the **strong** figure (ours: per example, the worst of PGD-20 on the "
                               "cross-entropy, PGD-20 on the CW margin loss and APGD-T on a subset; for R2S, the "
                               "worst of the paper's protocol, the EOT attacks on both losses and AutoAttack rand)."),
             new_code_cell('''from rstlib import verdicts
rows = [pages.headline(sections.Context(page.profile, device=page.device, seed=s, progress=False)) for s in seeds]
per_seed = pd.DataFrame(rows).set_index("seed")
display(per_seed.round(2))
summary = verdicts.headline_summary(per_seed)
display(summary.round(2))
display(Markdown("**Under a strong attack.** " + verdicts.strong_sentences(summary)))'''),
             new_markdown_cell("## Every claim of the supplement, as measured\n\nGenerated from the claims registry "
                               "(`rstlib/claims.py`) and the pages' records: one row per claim sentence of Secs. 3-9 "
                               "(compound sentences split), one column per profile that has run."),
             new_code_cell('''summary_all = book.claims_summary(page.ctx.store.root)
counts = summary_all.drop(columns=["section", "claim (the supplement's words)"]).apply(lambda c: c.value_counts()).fillna(0).astype(int)
display(Markdown(f"{len(summary_all)} claims of Secs. 3-9, each judged on its section's page (the rule and the numbers "
                 "are in each page's claims check). Verdict counts per profile:"))
display(counts)
display(summary_all)
display(Markdown(page.footer()))''')]
    return _notebook(cells)


def explore_notebook() -> nbformat.NotebookNode:
    params = COMMON_PARAMS + '''
ratios = None       # an R2S candidate set of your choosing, e.g. [5, 10, 30]; None: the profile's Fig. 4 ratios'''
    return _notebook([new_markdown_cell(EXPLORE_MD), new_code_cell(params, metadata={"tags": ["parameters"]}),
                      new_code_cell(EXPLORE_CODE), new_markdown_cell("## Robust accuracy against remaining ratio"),
                      new_code_cell(EXPLORE_FIGURE), new_markdown_cell("## An R2S set of your choosing"),
                      new_code_cell(EXPLORE_R2S), new_markdown_cell(EXPLORE_GPU),
                      new_code_cell("display(Markdown(page.footer()))")])


def notebook(name: str, page: dict) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(f"# {page['title']}\n\n{page['intro']}")]
    params = COMMON_PARAMS + ("\n" + page["params"] if page["params"] else "")
    cells.append(new_code_cell(params, metadata={"tags": ["parameters"]}))
    if "call" in page:
        quiet = {"tags": ["remove-stderr"]}  # progress lines: in the papermill log, not on the page
        cells.append(new_code_cell(SETUP.format(call_dry=page["call"].format(ctx="check")), metadata=quiet))
        cells.append(new_code_cell("result = " + page["call"].format(ctx="page.ctx"), metadata=quiet))
    for kind, text in page["body"]:
        cells.append(new_code_cell(text) if kind == "code" else new_markdown_cell(text))
    if "call" in page:
        cells.append(new_code_cell(CLAIMS.format(name=name)))
    return _notebook(cells)


def refresh_text(fresh: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    """The executed notebook at `path` with its markdown cells taken from `fresh`; its code cells
    (and so its outputs) must be those of `fresh`, else the page has to be re-executed."""
    def code(nb):
        return [(c.cell_type, c.source if c.cell_type == "code" else None) for c in nb.cells]

    executed = nbformat.read(path, as_version=4)
    if code(executed) != code(fresh):
        raise SystemExit(f"{path}: code cells changed; run without --text-only and re-execute the page")
    for old, new in zip(executed.cells, fresh.cells):
        if old.cell_type == "markdown":
            old.source = new.source
    return executed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-only", action="store_true", help="update markdown cells only, keep every output")
    args = parser.parse_args()
    BOOK.mkdir(exist_ok=True)
    pages = {name: notebook(name, page) for name, page in PAGES.items()} | {"intro": intro_notebook(),
                                                                             "explore": explore_notebook()}
    for name, nb in pages.items():
        path = BOOK / f"{name}.ipynb"
        nbformat.write(refresh_text(nb, path) if args.text_only else nb, path)
        print("wrote", path)


if __name__ == "__main__":
    main()
