"""Sec. 2 of the book: every profile's settings as tables, read from `_config.yml`."""
from __future__ import annotations

import dataclasses

import pandas as pd

from rstlib.bandits import Bandits
from rstlib.config import load_profiles
from rstlib.evaluation import CW_ITERATIONS


def profile_tables() -> dict[str, pd.DataFrame]:
    profiles = load_profiles()
    training, data, sections = [], [], []
    for name, p in profiles.items():
        for variant, recipe in (("search", "search"), ("dense", "dense"), ("finetune", "finetune"), ("rtt", "search")):
            s = dataclasses.asdict(getattr(p, recipe))
            training.append({"profile": name, "variant": variant, "precision": p.precision.of(variant), **s,
                             "lr overrides": ", ".join(f"{k}: {v:g}" for k, v in p.lr_overrides.items()) or "-"})
        data.append({"profile": name, "datasets": ", ".join(p.datasets), "second task (Sec. 9)": p.second_task,
                     "networks (width)": ", ".join(f"{a} ({w:g})" for a, w in p.archs.items()),
                     "train images": p.n_train or "all", "test images": p.n_test or "all",
                     "attacked test images": p.eval_n_test or "all",
                     "PGD eval": f"eps {p.evaluation.eps:g}, step {p.evaluation.step:g}, {p.evaluation.steps} steps",
                     "evaluation precision": "fp32",
                     "fast path": f"channels_last {p.fast.channels_last}, compile {p.fast.compile}"})
        for sec, knobs in p.sections.items():
            sections.append({"profile": name, "section": sec,
                             **{k: (str(list(v)) if isinstance(v, (list, tuple)) else v) for k, v in knobs.items()}})
    overview = pd.DataFrame([{"profile": name, "what it is, and how it differs from the supplement": p.description}
                             for name, p in profiles.items()])
    return {"profiles": overview, "training": pd.DataFrame(training), "data": pd.DataFrame(data),
            "sections": pd.DataFrame(sections).fillna(""), "attacks": attack_table(profiles)}


def attack_table(profiles) -> pd.DataFrame:
    """Every evaluation attack's settings at each profile (eps and steps in 1/255 pixel units),
    with where they come from."""
    b = Bandits(eps=0.0)
    rows = []
    for name, p in profiles.items():
        e = p.evaluation
        eps = ", ".join(f"{x:g}" for x in p.sections.sec3.eps)
        queries = p.sections.sec3.bandits_queries
        rows += [
            {"profile": name, "attack": "PGD-20 (the paper's)", "settings": f"eps {e.eps:g}, step {e.step:g}, "
             f"{e.steps} steps, 1 random start, cross-entropy; per-example early stop, highest-loss iterate kept",
             "source": "supplement Sec. 2 / original code"},
            {"profile": name, "attack": "PGD-20 margin (ours, strong figure)", "settings": "as PGD-20 on the "
             "Carlini-Wagner margin loss", "source": "ours"},
            {"profile": name, "attack": "APGD-T (ours, strong figure)", "settings": f"AutoAttack's targeted APGD, "
             f"9 target classes, 100 iterations, eps {e.eps:g}, on the first {e.apgd_t_images} attacked images",
             "source": "pyautoattack (official AutoAttack)"},
            {"profile": name, "attack": "CW-L2", "settings": "AdverTorch CarliniWagnerL2Attack: 1 binary-search step, "
             f"{CW_ITERATIONS} iterations, initial constant 0.1, learning rate 0.01, confidence 0", "source":
             "supplement Sec. 2"},
            {"profile": name, "attack": "CW-Inf", "settings": f"AdverTorch LinfPGDAttack on the CW margin loss, "
             f"{CW_ITERATIONS} iterations of step eps/4, random start, eps {eps}", "source": "supplement Sec. 2 "
             "(its 100 iterations; the initial constant and learning rate are CW-L2's optimiser settings)"},
            {"profile": name, "attack": "AutoAttack", "settings": f"standard version (APGD-CE, APGD-T, FAB-T, Square "
             f"5,000 queries), eps {eps}", "source": "official defaults (pyautoattack)"},
            {"profile": name, "attack": "AutoAttack rand on R2S (ours)", "settings": "rand version (APGD-CE, APGD-DLR, "
             f"EOT over 20 draws) on the first {e.aa_rand_images} attacked images of each candidate set"
             if e.aa_rand_images else "not run at this profile (on 2 CPU cores it costs about a minute per 10 images "
             "and candidate set); the strong R2S figure is the worst of the protocol and the four EOT attacks",
             "source": "official defaults for randomised defences"},
            {"profile": name, "attack": "Bandits-TD", "settings": f"L-inf, {queries} queries, eps {eps}; fd eta "
             f"{b.fd_eta:g}, online lr {b.online_lr:g}, exploration {b.exploration:g}, image lr {b.image_lr:g}, "
             f"data prior on a grid {b.tile}x coarser than the image (7x7 at 28 px, 8x8 at 32 px)", "source": "our re-implementation (the official "
             "code is on no registry); official L-inf defaults: fd eta 0.1, online lr 100, exploration 1.0, image "
             "lr 0.01, tiles of 50 px on 299 px ImageNet images (a 6x6 grid; ours keeps a grid of similar size)"},
        ]
    return pd.DataFrame(rows)
