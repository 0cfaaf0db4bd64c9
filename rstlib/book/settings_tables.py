"""Sec. 2 of the book: every profile's settings as tables, read from `_config.yml`."""

from __future__ import annotations

import dataclasses

import pandas as pd

from rstlib.attacks.bandits import Bandits
from rstlib.attacks.registry import CW_ITERATIONS
from rstlib.config.profile import load_profiles
from rstlib.data.specs import SPECS


def written(value) -> str:
    """A setting as a person writes it: 1,000 (not 1000.0), 0.0005, on / off, 'a, b, c'."""
    if value is None:
        return "all"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(written(v) for v in value)
    return str(value)


def ratios(values) -> str:
    """Remaining ratios: '5, 10, 30%'."""
    return f"{written(list(values))}%"


def candidate_sets(sets) -> str:
    """Candidate sets: '{3, 5, 7, 10}%, {5, 10}%'."""
    return ", ".join("{" + written(list(s)) + "}%" for s in sets)


def _knob(name: str, value) -> str:
    if value is None and name == "n_test":
        return "the profile's"
    if value in (None, "", [], ()):
        return "–"
    if name == "candidate_sets":
        return candidate_sets(value)
    if "ratios" in name:
        return ratios(value)
    if name == "eps":
        return f"{written(list(value))} (/255)"
    if name == "inits":
        return ", ".join(str(v).replace("_", " ") for v in value)
    return written(value)


def _by_profile(rows: dict[str, dict], index_names: list[str]) -> pd.DataFrame:
    """{profile: {setting (or a tuple): value}} as one row per setting, one column per profile."""
    table = pd.DataFrame(rows)
    table.index = (
        pd.MultiIndex.from_tuples(table.index, names=index_names)
        if len(index_names) > 1
        else pd.Index(table.index, name=index_names[0])
    )
    table.columns.name = "profile"
    return table.fillna("–")


def profile_tables() -> dict[str, pd.DataFrame]:
    """Sec. 2's tables: one row per setting, one column per profile."""
    profiles = load_profiles()
    training, data, sections = {}, {}, {}
    for name, p in profiles.items():
        t = training[name] = {}
        for variant, recipe in (("search", "search"), ("dense", "dense"), ("finetune", "finetune"), ("rtt", "search")):
            t[(variant, "precision")] = p.precision.of(variant)
            for key, value in dataclasses.asdict(getattr(p, recipe)).items():
                t[(variant, key.replace("_", " "))] = written(value)
        t[("all", "lr overrides")] = ", ".join(f"{k}: {v:g}" for k, v in p.lr_overrides.items()) or "–"
        e = p.evaluation
        data[name] = {
            "datasets": ", ".join(SPECS[d].label for d in p.datasets),
            "second task (Sec. 9)": SPECS[p.second_task].label,
            "networks (width)": ", ".join(f"{a} ({w:g})" for a, w in p.archs.items()),
            "train images": written(p.n_train),
            "test images": written(p.n_test),
            "attacked test images": written(p.eval_n_test),
            "PGD evaluation": f"eps {e.eps:g}/255, step {e.step:g}/255, {e.steps} steps",
            "strong figure (ours)": e.strong_text(),
            "AutoAttack rand images (R2S)": written(e.aa_rand_images) if e.aa_rand_images else "–",
            "evaluation precision": "fp32",
            "fast path": f"channels_last {written(p.fast.channels_last)}, compile {written(p.fast.compile)}",
        }
        sections[name] = {
            (sec, key.replace("_", " ")): _knob(key, value) for sec, knobs in p.sections.items() for key, value in knobs.items()
        }
    overview = pd.DataFrame(
        [{"profile": name, "what it is, and how it differs from the supplement": p.description} for name, p in profiles.items()]
    )
    return {
        "profiles": overview,
        "training": _by_profile(training, ["variant", "setting"]),
        "data": _by_profile(data, ["setting"]),
        "sections": _by_profile(sections, ["section", "knob"]),
        "attacks": attack_table(profiles),
    }


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
            {
                "profile": name,
                "attack": "PGD-20 (the paper's)",
                "settings": f"eps {e.eps:g}, step {e.step:g}, "
                f"{e.steps} steps, 1 random start, cross-entropy; per-example early stop, highest-loss iterate kept",
                "source": "supplement Sec. 2 / original code",
            },
            {
                "profile": name,
                "attack": "PGD-20 margin (ours, strong figure)",
                "settings": "as PGD-20 on the Carlini-Wagner margin loss",
                "source": "ours",
            },
            {
                "profile": name,
                "attack": "APGD-T (ours, strong figure)" if e.strong_attack == "apgd-t" else "AutoAttack (ours, strong figure)",
                "settings": (
                    f"AutoAttack's targeted APGD, 9 target classes, 100 iterations, eps {e.eps:g}, on the first "
                    f"{e.strong_images} attacked images"
                    if e.strong_attack == "apgd-t"
                    else f"the official AutoAttack standard (APGD-CE, APGD-T, FAB-T, Square), eps {e.eps:g}, on the first "
                    f"{e.strong_images} attacked images"
                ),
                "source": "pyautoattack (official AutoAttack)",
            },
            {
                "profile": name,
                "attack": "CW-L2",
                "settings": "AdverTorch CarliniWagnerL2Attack: 1 binary-search step, "
                f"{CW_ITERATIONS} iterations, initial constant 0.1, learning rate 0.01, confidence 0",
                "source": "supplement Sec. 2",
            },
            {
                "profile": name,
                "attack": "CW-Inf",
                "settings": f"AdverTorch LinfPGDAttack on the CW margin loss, "
                f"{CW_ITERATIONS} iterations of step eps/4, random start, eps {eps}",
                "source": "supplement Sec. 2 "
                "(its 100 iterations; the initial constant and learning rate are CW-L2's optimiser settings)",
            },
            {
                "profile": name,
                "attack": "AutoAttack",
                "settings": f"standard version (APGD-CE, APGD-T, FAB-T, Square 5,000 queries), eps {eps}",
                "source": "official defaults (pyautoattack)",
            },
            {
                "profile": name,
                "attack": "AutoAttack rand on R2S (ours)",
                "settings": "rand version (APGD-CE, APGD-DLR, "
                f"EOT over 20 draws) on the first {e.aa_rand_images} attacked images of each candidate set"
                if e.aa_rand_images
                else "not run at this profile (on 2 CPU cores it costs about a minute per 10 images "
                "and candidate set); the strong R2S figure is the worst of the protocol and the four EOT attacks",
                "source": "official defaults for randomised defences",
            },
            {
                "profile": name,
                "attack": "Bandits-TD",
                "settings": f"L-inf, {queries} queries, eps {eps}; fd eta "
                f"{b.fd_eta:g}, online lr {b.online_lr:g}, exploration {b.exploration:g}, image lr {b.image_lr:g}, "
                f"data prior on a grid {b.tile}x coarser than the image (7x7 at 28 px, 8x8 at 32 px)",
                "source": "our re-implementation (the official "
                "code is on no registry); official L-inf defaults: fd eta 0.1, online lr 100, exploration 1.0, image "
                "lr 0.01, tiles of 50 px on 299 px ImageNet images (a 6x6 grid; ours keeps a grid of similar size)",
            },
        ]
    long = pd.DataFrame(rows)
    wide = long.pivot(index="attack", columns="profile", values="settings")
    wide = wide.loc[list(dict.fromkeys(long.attack)), list(profiles)]
    wide["source"] = long.drop_duplicates("attack").set_index("attack").loc[wide.index, "source"]
    return wide
