"""Sec. 2 of the book: every profile's settings as tables, read from `_config.yml`."""
from __future__ import annotations

import dataclasses

import pandas as pd

from rstlib.config import load_profiles


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
                             **{k: (str(v) if isinstance(v, list) else v) for k, v in knobs.items()}})
    return {"training": pd.DataFrame(training), "data": pd.DataFrame(data),
            "sections": pd.DataFrame(sections).fillna("")}
