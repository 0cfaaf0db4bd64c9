"""Beyond the paper: the headline claims C1-C3 measured along a scale ladder (`config.Ladder`,
`_config.yml`'s `ladders:`), so a reader sees which way each claim moves with the search budget
and the width, and whether it heads for the paper's regime.

Every point runs the intro's own code path (`headline.headline_per_image`) at the base profile with
the point's training-set size and width, over the ladder's seeds, and is judged with the one noise
model (`rstlib.paper.claims.noise`, `verdicts.headline_gaps`). `rst scale --ladder laptop` runs
(or resumes) the whole ladder; the book's scale page loads what the store holds.
"""

from rstlib.paper.scale.cost import ahead, cost_sentence, cost_table, sum_cost, untimed_estimate  # noqa: F401
from rstlib.paper.scale.ladder import (  # noqa: F401
    PAPER_SCORE_UPDATES,
    PointResult,
    ladder_for,
    measure,
    measure_point,
    plan,
    point_plan,
    trend_table,
)
from rstlib.paper.scale.trend import (  # noqa: F401
    Slope,
    findings,
    intro_sentence,
    numbers_table,
    slope,
    slope_sentence,
    trend_sentence,
    width_sentence,
)
