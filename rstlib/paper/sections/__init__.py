"""The work and the results of each supplementary section (Sec. 3-9).

Each section is one function `secN(ctx, **knobs) -> SectionResult`. It asks the context for
runs and evaluations; with a computing `Context` these are trained or loaded from the run store,
with `Context(dry_run=True)` they are only recorded (the values are NaN), which gives the exact
list of runs a section needs: the notebooks and `rst sweep` / `rst plan` share these functions,
so a sweep computes exactly what the book later loads.
"""

from __future__ import annotations

from typing import Callable

from rstlib.config.params import parse_candidate_sets, parse_list, parse_ratios  # noqa: F401 (the pages' API)
from rstlib.paper.claims.registry import judge as judge_claims  # noqa: F401 (the pages' API)
from rstlib.paper.context import Context  # noqa: F401 (the pages' API)
from rstlib.paper.sections.attacks_accuracy import sec3, sec3_attacks, sec4  # noqa: F401
from rstlib.paper.sections.r2s import sec6, sec8
from rstlib.paper.sections.result import SectionResult
from rstlib.paper.sections.transfer import diag_gap, sec5, sec7, sec9  # noqa: F401

SECTIONS: dict[str, Callable[..., SectionResult]] = {
    "sec3": sec3,
    "sec4": sec4,
    "sec5": sec5,
    "sec6": sec6,
    "sec7": sec7,
    "sec8": sec8,
    "sec9": sec9,
}

TITLES = {
    "sec3": "Sec. 3: RSTs against more attacks (Table 1)",
    "sec4": "Sec. 4: natural accuracy of RSTs, fine-tuned RSTs and RTTs (Figs. 1-3)",
    "sec5": "Sec. 5: adversarial transferability between RSTs (Fig. 4, Table 2)",
    "sec6": "Sec. 6: R2S with more candidate RST sets (Table 3)",
    "sec7": "Sec. 7: adversarial transferability between adversarial RTTs (Fig. 5)",
    "sec8": "Sec. 8: R2S on adversarial RTTs (Table 4)",
    "sec9": "Sec. 9: RSTs vs transferred adversarial RTTs across tasks (Fig. 6)",
}
