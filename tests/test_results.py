"""`rstlib.results()`: explicit columns, integer types, and the book's tables recomputed from it alone
(the queries of the README's "Results as a table")."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "runs"


@pytest.fixture(scope="module")
def committed():
    import rstlib

    if not any(COMMITTED.glob("search-fashion_mnist-*/metrics.json")):
        pytest.skip("no committed laptop runs in runs/")
    return rstlib.results(COMMITTED)


def _laptop_section(name):
    """The book's section at the laptop profile, from the committed store (loads, computes nothing)."""
    from rstlib.config.profile import load_profile
    from rstlib.paper.context import Context
    from rstlib.paper.sections import SECTIONS
    from rstlib.store.runstore import RunStore

    return SECTIONS[name](Context(load_profile("laptop"), RunStore(COMMITTED), device="cpu", progress=False))


def test_columns_say_what_distinguishes_a_number(committed):
    df = committed
    assert {"evaluation", "attack", "attack_source_run", "candidate_set", "n_images", "profile"} <= set(df.columns)
    assert set(df.evaluation) <= {"training", "white-box", "transfer", "r2s-protocol", "r2s-adaptive"}
    for col in ("seed", "epochs", "steps", "n_images"):
        assert str(df[col].dtype) == "Int64", col
    assert "natural_test" not in set(df.attack)  # natural accuracy is `clean` everywhere
    transfer = df[df.evaluation == "transfer"]
    assert len(transfer) and transfer.attack_source_run.notna().all()
    white = df[df.evaluation == "white-box"]
    assert white.attack_source_run.isna().all()
    r2s = df[df.kind == "r2s"]
    assert len(r2s) and all(isinstance(s, tuple) and all(isinstance(r, float) for r in s) for s in r2s.candidate_set)
    # the committed book's runs, and the staged regeneration's beside them (until the switch renames them)
    assert "laptop" in set(df.profile) and set(df.profile.dropna()) <= {"laptop", "laptop-next"}


def test_the_obvious_query_gives_one_row_per_run(committed):
    import rstlib

    v = rstlib.results(COMMITTED, kind="search", attack="pgd20", white_box=True)
    assert not v.duplicated(["run_id"]).any()
    assert (v.evaluation == "white-box").all() and (v.attack == "pgd20").all()
    # at the largest image count: the white-box figure that the book's Sec. 5 diagonal shows
    full = committed[(committed.kind == "search") & (committed.attack == "pgd20") & (committed.evaluation == "white-box")]
    for run_id, n in zip(v.run_id, v.n_images):
        assert n == full[full.run_id == run_id].n_images.max()


def test_sec3_table1_from_results_alone(committed):
    df = committed
    knobs_n = 100  # laptop sec3.n_test
    rows = df[
        (df.evaluation == "white-box")
        & (df.profile == "laptop")
        & (df.n_images == knobs_n)
        & (df.dataset == "fashion_mnist")
        & (df.seed == 0)
        & (((df.kind == "dense") & (df.variant == "adv")) | ((df.kind == "search") & (df.init == "signed_kaiming_constant")))
    ]
    ours = rows.pivot(index=["kind", "ratio"], columns=["attack", "eps"], values="acc")
    book = _laptop_section("sec3").tables["table1"]
    assert len(book) == len(ours)
    for _, b in book.iterrows():
        kind = "dense" if b["model"] == "dense_adv_trained" else "search"
        row = ours.loc[(kind, float(b["remaining_ratio_pct"]))]
        values = {
            "natural": row.xs("clean", level="attack").iloc[0],
            "pgd20": row[("pgd20", 24.0)],
            "strong (ours)": row[("strong", 24.0)],
            "cw_l2": row.xs("cw-l2", level="attack").iloc[0],
        }
        for eps in (24, 36):
            values[f"autoattack_eps{eps}"] = row[("autoattack", float(eps))]
            values[f"cw_inf_eps{eps}"] = row[("cw-inf", float(eps))]
            values[f"bandits_eps{eps}"] = row[("bandits", float(eps))]
        for col, value in values.items():
            assert value == pytest.approx(b[col], abs=1e-9), (b["model"], b["remaining_ratio_pct"], col)


def test_sec6_table3_from_results_alone(committed):
    df = committed
    # the laptop profile's own sets: the scale ladder's other points hold R2S sets at other sizes and widths
    r2s = df[(df.kind == "r2s") & (df.variant == "search") & (df.seed == 0) & (df.profile == "laptop")]
    ours = r2s.pivot(index="candidate_set", columns="attack", values="acc")
    book = _laptop_section("sec6").tables["r2s"]
    book = book[book.candidate_set != "dense"]
    assert len(book)
    names = {
        "natural": "clean",
        "pgd20_protocol": "pgd20",
        "pgd20_eot_loss": "r2s-eot-loss",
        "pgd20_eot_logits": "r2s-eot-logits",
        "pgd20_eot_loss_margin": "r2s-eot-loss-margin",
        "pgd20_eot_logits_margin": "r2s-eot-logits-margin",
        "strong": "strong",
    }
    for _, b in book.iterrows():
        ratios = tuple(sorted(float(x.strip(" %")) for x in b["candidate_set"].split(",")))
        for col, attack in names.items():
            assert ours.loc[[ratios], attack].iloc[0] == pytest.approx(b[col], abs=1e-9), (ratios, col)


def test_runs_table_sorts_ratios_as_numbers_and_names_the_profile():
    import rstlib

    if not any(COMMITTED.glob("search-fashion_mnist-*/metrics.json")):
        pytest.skip("no committed laptop runs in runs/")
    t = rstlib.runs_table(rstlib.RunStore(COMMITTED))
    rst = t[(t.kind == "search") & (t.dataset == "fashion_mnist") & (t.init == "signed_kaiming_constant") & (t.seed == 0)]
    assert list(rst.ratio) == sorted(rst.ratio)
    assert "laptop" in set(t.profile) and set(t.profile.dropna()) <= {"laptop", "laptop-next"}
    results_only = t[t.state == "results-only"]
    assert len(results_only) and results_only.age_h.isna().all()


def test_profile_of_a_changed_config_is_none(smoke):
    import dataclasses

    from rstlib.results_table.run_rows import profile_of
    from rstlib.train import variants as ex

    c = ex.search_config(smoke, "fashion_mnist", "cnn_small", 10)
    assert profile_of(c.to_dict()) == "smoke"
    changed = dataclasses.replace(c, train=dataclasses.replace(c.train, epochs=c.train.epochs + 1))
    assert profile_of(changed.to_dict()) is None
    assert profile_of({"kind": "search"}) is None


def test_every_public_name_stays_what_it_is_after_every_module_is_imported():
    """`import rstlib` is lazy; a submodule of the same name as a public function would shadow it
    once imported (rstlib.results was once the module, not the function)."""
    import importlib
    import pkgutil
    import types

    import rstlib

    for module in pkgutil.iter_modules(rstlib.__path__):
        importlib.import_module(f"rstlib.{module.name}")
    for name in rstlib.__all__:
        assert not isinstance(getattr(rstlib, name), types.ModuleType), name
    assert callable(rstlib.results) and callable(rstlib.load_model)
