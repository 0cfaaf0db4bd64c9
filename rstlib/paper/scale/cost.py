"""What the scale ladder cost, from the run store's records: per point, in all, and the sentence the scale page says it in."""

from __future__ import annotations

import pandas as pd

from rstlib.config.ladder import Ladder
from rstlib.paper.recorded import RecordedCost
from rstlib.paper.scale.ladder import PAPER_SCORE_UPDATES, PointResult, plan


def ahead(page, ladder: Ladder) -> str:
    """The page's statement of what the ladder loads and computes (`book.Page.ahead`)."""
    return page.ahead(plan(ladder))


def cost_table(results: list[PointResult]) -> pd.DataFrame:
    """One row per point and one for the whole ladder: runs, the training time per run and the
    evaluation time the store recorded, and the two together."""
    rows = []
    for r in sorted(results, key=lambda r: (r.point.width, r.point.n_train)):
        c = r.cost
        rows.append(
            {
                "training images": f"{r.point.n_train:,}",
                "width": f"x{r.point.width:g}",
                "score updates": f"{r.score_updates:,}",
                "seeds": len(r.seeds),
                "runs": f"{c.runs_recorded} of {c.runs}",
                "training (min per run)": c.training_s / 60 / c.runs_recorded if c.runs_recorded else None,
                "evaluation (min)": c.evaluation_s / 60,
                "in all (min)": (c.training_s + c.evaluation_s) / 60,
            }
        )
    total = sum_cost(results)
    rows.append(
        {
            "training images": "the whole ladder",
            "width": "",
            "score updates": "",
            "seeds": "",
            "runs": f"{total.runs_recorded} of {total.runs}",
            "training (min per run)": None,
            "evaluation (min)": total.evaluation_s / 60,
            "in all (min)": (total.training_s + total.evaluation_s) / 60,
        }
    )
    return pd.DataFrame(rows).set_index("training images")


def sum_cost(results: list[PointResult]) -> RecordedCost:
    total = RecordedCost()
    for r in results:
        for name in ("runs", "runs_recorded", "training_s", "evals", "evals_timed", "evaluation_s"):
            setattr(total, name, getattr(total, name) + getattr(r.cost, name))
    return total


def untimed_estimate(results: list[PointResult]) -> float:
    """Seconds for the evaluations that recorded no time (cached before evaluations were timed),
    each priced at the mean of its own point's timed evaluations: an estimate, said to be one."""
    return sum(
        (r.cost.evals - r.cost.evals_timed) * r.cost.evaluation_s / r.cost.evals_timed for r in results if r.cost.evals_timed
    )


def cost_sentence(results: list[PointResult]) -> str:
    """The ladder's cost from an empty store, summed from what every run and evaluation recorded."""
    total = sum_cost(results)
    untimed = total.evals - total.evals_timed
    guess = untimed_estimate(results)
    return (
        f"From an empty run store the whole ladder is {total.runs} training runs and {total.evals} evaluations: "
        f"{total.training_s / 60:.0f} min of training and {total.evaluation_s / 60:.0f} min of evaluation as "
        f"recorded, {(total.training_s + total.evaluation_s) / 3600:.1f} hours in all"
        + (
            f"; {untimed} evaluations, cached before evaluations recorded their time, add about {guess / 60:.0f} min "
            f"at their point's mean ({(total.training_s + total.evaluation_s + guess) / 3600:.1f} hours)"
            if untimed
            else ""
        )
        + ". The paper's "
        f"search makes {PAPER_SCORE_UPDATES:,} score updates, "
        f"{PAPER_SCORE_UPDATES / max(r.score_updates for r in results):.0f}x our largest budget."
    )
