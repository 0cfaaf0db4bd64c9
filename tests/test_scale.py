"""The scale ladder: typed from `_config.yml`, hashed into run ids like every run, and read with a
fitted trend that says what it can and cannot say (the page itself runs in test_book)."""

import pandas as pd
import pytest

from rstlib.config.ladder import Ladder, LadderPoint, load_ladder
from rstlib.config.profile import ConfigError, load_profile
from rstlib.paper import scale
from rstlib.train import variants as ex


def test_a_ladder_point_is_its_base_profile_with_two_knobs_replaced():
    ladder = load_ladder("laptop")
    laptop = load_profile("laptop")
    first = ladder.points[0]
    assert (first.n_train, first.width) == (laptop.n_train, laptop.archs["cnn_small"])
    # the laptop's own point trains the laptop's runs (the same ids: loaded, never retrained)
    same = ex.search_config(ladder.profile(first), "fashion_mnist", "cnn_small", 10, 0)
    assert same.run_id() == ex.search_config(laptop, "fashion_mnist", "cnn_small", 10, 0).run_id()
    ids = {ex.search_config(ladder.profile(p), "fashion_mnist", "cnn_small", 10, 0).run_id() for p in ladder.points}
    assert len(ids) == len(ladder.points)  # every point its own runs
    bigger = ladder.profile(ladder.points[1])
    assert bigger.search == laptop.search and bigger.evaluation == laptop.evaluation
    assert ladder.score_updates(first) == 32 * laptop.search.epochs  # ceil(4000 / 128) batches per epoch
    assert len(ladder.points) >= 3 and len({p.width for p in ladder.points}) >= 2
    assert all(len(ladder.seeds_of(p)) >= 2 for p in ladder.points)


def test_a_malformed_ladder_is_refused_in_one_line(tmp_path):
    base = load_profile("smoke")
    with pytest.raises(ConfigError, match="needs >= 2 ratios"):
        Ladder("x", base, (10.0,), (0, 1), (LadderPoint(512, 1.0),))
    with pytest.raises(ConfigError, match="distinct points"):
        Ladder("x", base, (10.0, 30.0), (0, 1), (LadderPoint(512, 1.0), LadderPoint(512, 1.0, (2, 3))))
    with pytest.raises(ConfigError, match="unknown ladder 'nope'"):
        load_ladder("nope")
    broken = tmp_path / "c.yml"
    text = scale.__file__.rsplit("/rstlib/", 1)[0] + "/_config.yml"
    broken.write_text(open(text).read() + "\n  broken:\n    base: smoke\n    ratios: [10, 30]\n")
    with pytest.raises(ConfigError, match="ladder 'broken' .* malformed"):
        load_ladder("broken", broken)


def _trend(gaps, se=0.5, width=1.0, threshold=-3.0):
    updates = [100, 1000, 10000][: len(gaps)]
    return pd.DataFrame(
        [
            {
                "claim": "C1",
                "judged under": "PGD-20",
                "width": width,
                "score updates": u,
                "threshold": threshold,
                "gap": g,
                "band from": g - 1.96 * se,
                "band to": g + 1.96 * se,
                "verdict": "inconclusive",
            }
            for u, g in zip(updates, gaps)
        ]
    )


def test_the_fitted_trend_recovers_a_slope_and_says_when_it_does_not_move():
    rising = scale.slope(_trend([-9.0, -7.0, -5.0]), "C1", "PGD-20", 1.0)
    assert rising.per_decade == pytest.approx(2.0) and rising.moves
    assert rising.crossing == pytest.approx(100_000, rel=1e-6)  # -5 + 2 per decade meets -3 one decade on
    assert rising.within_reach  # one decade past 10,000 is within the two decades measured
    assert "meets the threshold -3 at about 100,000" in scale.slope_sentence(rising, -3.0)
    far = scale.slope(_trend([-9.0, -8.9, -8.8], se=0.01), "C1", "PGD-20", 1.0)
    assert far.moves and not far.within_reach
    assert "the data do not say it gets there" in scale.slope_sentence(far, -3.0)
    flat = scale.slope(_trend([-5.0, -5.5, -4.8], se=2.0), "C1", "PGD-20", 1.0)
    assert not flat.moves and "does not move" in scale.slope_sentence(flat, -3.0)
    away = scale.slope(_trend([-4.0, -6.0, -8.0]), "C1", "PGD-20", 1.0)
    assert "moves away from the threshold" in scale.slope_sentence(away, -3.0)
    assert scale.slope(_trend([-9.0, -7.0]), "C1", "PGD-20", 1.0) is None  # two points fit no line


def test_the_budget_sentence_compares_the_smallest_and_largest_budget():
    table = _trend([-9.0, -7.0, -1.0])
    table.loc[2, "verdict"] = "holds"
    text = scale.trend_sentence(table, "C1", "PGD-20")
    assert "rises" in text and "-9.00 points" in text and "-1.00" in text and "holds" in text
    assert "does not move beyond the noise" in scale.trend_sentence(_trend([-5.0, -4.0], se=2.0), "C1", "PGD-20")
