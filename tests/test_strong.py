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
    strong = ev.strong(run, pgd, images=0)
    assert strong["pgd20"] == 50.0 and strong["pgd20_margin"] == 50.0 and strong["acc"] == 0.0


def test_strong_is_never_above_any_single_attack_on_a_smoke_model(trained):
    store, p, runs = trained
    ev = Evaluator(store, n_test=32, batch_size=32, device="cpu")
    pgd = AttackSpec.pgd20(p.evaluation)
    for run in runs.values():
        s = ev.strong(run, pgd, images=8)
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
    # with AutoAttack examples crafted on each member and transferred to every member (the strong
    # figure is then over the first 8 images): never above them, nor above any attack on those images
    deeper = evaluate_r2s(ev, runs, AttackSpec.pgd20(p.evaluation), adaptive=True, strong_images=4, transfer_images=8)
    assert deeper.strong_images == 8 and len(deeper.strong_per_image) == 8
    assert deeper.strong <= deeper.autoattack_transfer + 1e-9
    assert np.all(deeper.strong_per_image <= result.strong_per_image[:8] + 1e-9)


def test_no_image_survives_the_strong_figure_and_falls_to_the_official_autoattack(runs, smoke):
    """On the smoke RSTs (10%, 30%) and the smoke dense network: every image the strong figure (the
    smoke profile's design, over its first images) counts as robust also survives the official
    AutoAttack standard, run directly on `rstlib.load_model` on the same images."""
    import torch
    from pyautoattack import AutoAttack

    import rstlib

    n = smoke.eval_n_test
    ev_settings = smoke.evaluation
    store = RunStore(runs)
    ev = Evaluator(store, n_test=n, batch_size=smoke.evaluation.batch_size, device="cpu", run_options=CPU)
    pgd = AttackSpec.pgd20(smoke.evaluation)
    x, y = rstlib.test_images("fashion_mnist", n=n).tensors()
    configs = [ex.search_config(smoke, "fashion_mnist", "cnn_small", r) for r in (10, 30)]
    configs.append(ex.dense_config(smoke, "fashion_mnist", "cnn_small", True, 0))
    for config in configs:
        strong = ev.strong(model_run(store, config, CPU), pgd, ev_settings.strong_images, ev_settings.strong_attack)
        assert strong["n"] == min(n, ev_settings.strong_images)
        n_strong = strong["n"]
        robust = unpack_bits(strong["correct"], n_strong)
        model = rstlib.load_model(config, store=store, progress=False)
        aa = AutoAttack(model, norm="Linf", eps=smoke.evaluation.eps / 255, version="standard", device="cpu")
        aa.verbose = False
        x_adv, _ = aa.run_standard_evaluation(x[:n_strong], y[:n_strong])
        with torch.no_grad():
            survives_aa = (model(x_adv).argmax(1) == y[:n_strong]).numpy()
        weaker = int((robust & ~survives_aa).sum())
        assert weaker == 0, f"{config.run_id()}: {weaker} images robust under the strong figure fall to AutoAttack"


def test_a_sources_examples_are_crafted_once_for_every_candidate_set_that_meets_them(trained, monkeypatch):
    """R2S candidate sets share members: a second set asks a member's examples for a target the first
    set did not have. They are scored again, never crafted again (within one process)."""
    import rstlib.evaluation.evaluator as evaluator_module

    store, p, runs = trained
    crafted_on = []
    real = evaluator_module.craft

    def counting(source, *args, **kwargs):
        crafted_on.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(evaluator_module, "craft", counting)
    ev = Evaluator(store, n_test=16, batch_size=16, device="cpu")
    spec = AttackSpec("pgd20", eps=20, step=5, steps=3)  # not cached by any other test
    ev.transfer_cells({"10%": runs["10%"]}, spec)
    ev.transfer_cells({"10%": runs["10%"], "30%": runs["30%"]}, spec)
    assert len(crafted_on) == 2  # once on the 10% RST (its row's new target scored on the same examples), once on the 30%
