"""The strong figure: per example, the worst of several attacks; never above any of them."""

import json

import numpy as np
import pytest
from conftest import tiny_profile

from rstlib.attacks.registry import AttackSpec
from rstlib.evaluation.evaluator import Evaluator, pack_bits, unpack_bits
from rstlib.evaluation.r2s import evaluate_r2s
from rstlib.store.runstore import RunStore
from rstlib.train import variants as ex
from rstlib.train.loop import RunOptions
from rstlib.train.runner import model_run

CPU = RunOptions(device="cpu", progress=False, announce=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, smoke):
    store = RunStore(tmp_path_factory.mktemp("strong") / "runs")
    p = tiny_profile(smoke, epochs=1)
    runs = {f"{r}%": model_run(store, ex.search_config(p, "fashion_mnist", "cnn_small", r), CPU) for r in (10, 30)}
    return store, p, runs


def test_bits_round_trip():
    flags = np.array([True, False, True, True, False, False, True, False, True])
    assert (unpack_bits(pack_bits(flags), len(flags)) == flags).all()


def test_strong_is_the_per_example_minimum_not_the_minimum_of_the_figures(trained):
    """Two attacks that each fool a different half of the images: each scores 50%, the strong
    figure 0%, which a minimum over the two figures (50%) would miss."""
    store, p, runs = trained
    run = runs["10%"]
    ev = Evaluator(store, n_test=16, batch_size=16, device="cpu")
    pgd = AttackSpec.pgd20(p.evaluation)
    margin = AttackSpec.pgd20(p.evaluation, "margin")
    halves = {pgd: [True] * 8 + [False] * 8, margin: [False] * 8 + [True] * 8}
    for spec, flags in halves.items():  # written where the evaluator caches these attacks
        key = ev.key(run, spec)
        path = store._eval_path(run, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"key": key, "result": {"acc": 50.0, "n": 16, "correct": pack_bits(flags)}}))
    strong = ev.strong(run, pgd, apgd_images=0)
    assert strong["pgd20"] == 50.0 and strong["pgd20_margin"] == 50.0 and strong["acc"] == 0.0


def test_strong_is_never_above_any_single_attack_on_a_smoke_model(trained):
    store, p, runs = trained
    ev = Evaluator(store, n_test=32, batch_size=32, device="cpu")
    pgd = AttackSpec.pgd20(p.evaluation)
    for run in runs.values():
        s = ev.strong(run, pgd, apgd_images=8)
        assert s["acc"] <= ev.evaluate(run, pgd)["acc"]
        assert s["acc"] <= ev.evaluate(run, AttackSpec.pgd20(p.evaluation, "margin"))["acc"]
        first = unpack_bits(s["correct"], s["n"])[:8]
        assert 100 * first.mean() <= s["apgd_t"] and s["apgd_images"] == 8


def test_r2s_strong_is_below_the_protocol_and_every_adaptive_attack(trained):
    store, p, runs = trained
    ev = Evaluator(store, n_test=16, batch_size=16, device="cpu")
    result = evaluate_r2s(ev, runs, AttackSpec.pgd20(p.evaluation), adaptive=True, strong_images=4)
    for figure in (result.protocol, result.eot_loss, result.eot_logits, result.eot_loss_margin, result.eot_logits_margin):
        assert result.strong <= figure + 1e-9, result.row()
    assert result.autoattack_rand is not None and result.strong_images == 4
