"""The fast path (cached mask, top-k selection, frozen parameters during the attack,
channels_last) must not change results: with bf16 off it matches the original code's design."""

import sys

import torch
from conftest import ROOT

from rstlib import data as datasets
from rstlib.attacks.pgd import PGD
from rstlib.nets.inits import initialise
from rstlib.nets.masking import export_mask, masked_layers, set_remaining_ratio
from rstlib.nets.models import build_model
from rstlib.train.loop import precision_autocast, train_step

sys.path.insert(0, str(ROOT))
from benchmarks.reference_design import reference_search_step, to_reference  # noqa: E402


def _searching_model(channels_last=False):
    model = build_model("cnn_small", "fashion_mnist", masked=True, width=0.5)
    initialise(model, "signed_kaiming_constant", seed=0)
    set_remaining_ratio(model, 10)
    for n, p in model.named_parameters():
        p.requires_grad_(n.endswith("scores"))
    model.train()
    return model.to(memory_format=torch.channels_last) if channels_last else model


def test_fast_search_steps_equal_the_reference_design():
    """Caching, selection and frozen parameters change nothing: bit-identical scores and masks."""
    channels_last = False
    data = datasets.load("fashion_mnist", train=True, n=256)
    batches = list(datasets.BatchLoader(data, 64, torch.device("cpu"), shuffle=False))
    eps, step, steps = 24 / 255, 8 / 255, 3

    ref = to_reference(_searching_model())
    ref_opt = torch.optim.SGD([p for p in ref.parameters() if p.requires_grad], lr=0.1, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(7)
    for x, y in batches:
        reference_search_step(ref, x, y, ref_opt, eps, step, steps, gen)

    fast = _searching_model(channels_last)
    fast_opt = torch.optim.SGD([p for p in fast.parameters() if p.requires_grad], lr=0.1, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(7)
    attack = PGD(eps, step, steps)
    for x, y in batches:
        x = x.contiguous(memory_format=torch.channels_last) if channels_last else x
        train_step(fast, x, y, fast_opt, attack, gen, precision_autocast(torch.device("cpu"), "fp32"))

    for name, layer in masked_layers(fast).items():
        ref_layer = dict(ref.named_modules())[name]
        assert torch.equal(layer.scores, ref_layer.scores), name
    fast_masks = export_mask(fast)
    for name in fast_masks:
        ref_mask = dict(ref.named_modules())[name].scores.abs()
        k = int(fast_masks[name].sum())
        top = torch.zeros(ref_mask.numel(), dtype=torch.bool)
        top[ref_mask.flatten().sort().indices[-k:]] = True
        assert torch.equal(fast_masks[name].flatten(), top), name


def test_channels_last_changes_only_float_rounding():
    """channels_last picks other conv kernels: one update step agrees to float rounding (over
    several PGD steps, sign() can amplify such differences, so the comparison is per step)."""
    x, y = next(
        iter(datasets.BatchLoader(datasets.load("fashion_mnist", train=True, n=64), 64, torch.device("cpu"), shuffle=False))
    )
    results = []
    for channels_last in (False, True):
        model = _searching_model(channels_last)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
        xin = x.contiguous(memory_format=torch.channels_last) if channels_last else x
        train_step(model, xin, y, opt)
        results.append({n: m.scores.detach().clone() for n, m in masked_layers(model).items()})
    for name in results[0]:
        torch.testing.assert_close(results[1][name], results[0][name], rtol=1e-3, atol=1e-4)
