"""The book's one table style (rstlib.book.tables): headers in the paper's words, no 0..N index, one
number format per column, "–" for missing cells, verdict badges, the same HTML for the same table."""

import re

import numpy as np
import pandas as pd

from rstlib.book import tables

FORBIDDEN = re.compile(r"_eps|_minus_|rst_\d|dense_adv|pgd20_|>\s*(nan|NaN|None|&lt;NA&gt;)\s*<")


def _table1_like():
    return pd.DataFrame(
        {
            "network": ["SmallCNN", "SmallCNN"],
            "model": ["dense_adv_trained", "rst"],
            "remaining_ratio_pct": [100.0, 10.0],
            "natural": [72.1, np.nan],
            "autoattack_eps24": [43.0, 40.0],
            "cw_inf_eps36": [12.25, None],
            "C1_best_rst_minus_dense": [-3.33, 1.2],
            "verdict": ["✓ holds", "? inconclusive"],
        }
    )


def test_headers_and_cells_speak_the_papers_words():
    html = tables.html(_table1_like())
    assert not FORBIDDEN.search(html), FORBIDDEN.search(html)
    for words in (
        "AutoAttack, ε = 24/255",
        "CW-Inf, ε = 36/255",
        "C1: best RST − dense (PGD-20)",
        "ratio (%)",
        "dense (adversarial)",
        "RST",
    ):
        assert words in html


def test_no_index_column_unless_it_has_a_name():
    assert "row_heading" not in tables.html(_table1_like())
    matrix = pd.DataFrame(
        [[50.8, 60.2], [45.6, 52.8]],
        index=pd.Index(["10%", "30%"], name="source"),
        columns=pd.Index(["10%", "30%"], name="target"),
    )
    html = tables.html(matrix)
    assert "row_heading" in html and ">source<" in html


def test_one_format_per_column_and_a_dash_for_missing_cells():
    html = tables.html(_table1_like())
    assert ">72.1<" in html and ">43.0<" in html and ">40.0<" in html  # accuracies: one decimal, always
    assert ">100<" in html and ">10<" in html  # a ratio is a count, not a measurement
    assert "−3.33" in html and "+1.20" in html and "rst-neg" in html and "rst-pos" in html  # a signed difference
    assert html.count(">–<") == 2


def test_an_object_column_of_floats_is_still_a_measurement():
    t = pd.DataFrame({"candidate set": ["dense", "3%, 5%"], "PGD-20": pd.Series([55.0, 46.64], dtype=object)})
    html = tables.html(t)
    assert ">55.0<" in html and ">46.6<" in html


def test_verdicts_are_badges_and_the_same_table_gives_the_same_html():
    html = tables.html(_table1_like())
    assert 'class="rst-verdict rst-holds">✓ holds<' in html and 'rst-open">? inconclusive<' in html
    assert tables.html(_table1_like()) == html
    no_numbers = tables.html(pd.DataFrame({"on the paper's numbers": ["✓ holds", "– no numbers"]}))
    assert 'rst-untested">– no numbers<' in no_numbers  # a badge like the verdicts beside it, not loose text


def test_sec2_settings_are_one_row_per_setting_and_one_column_per_profile():
    from rstlib.book.settings_tables import candidate_sets, profile_tables, ratios, written
    from rstlib.config.profile import load_profiles

    assert (written(1000.0), written(0.0005), written(True), written(None)) == ("1,000", "0.0005", "on", "all")
    assert ratios([5.0, 10.0, 30.0]) == "5, 10, 30%"
    assert candidate_sets([(3.0, 5.0, 7.0, 10.0), (5.0, 10.0)]) == "{3, 5, 7, 10}%, {5, 10}%"
    profiles = list(load_profiles())
    t = profile_tables()
    for name in ("training", "data", "sections"):
        assert list(t[name].columns) == profiles, name
        assert not t[name].index.duplicated().any(), name
    assert list(t["attacks"].columns) == profiles + ["source"]
    laptop = t["sections"]["laptop"]
    assert laptop[("sec6", "candidate sets")].startswith("{3, 5, 7, 10}%") and laptop[("sec3", "ratios")] == "10, 30%"
    html = tables.html(t["sections"])
    assert not re.search(r"\[\d|\(\d\.0", html)  # no Python list or tuple reprs
