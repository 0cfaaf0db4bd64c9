import pytest
import torch

from rstlib.nets.masking import (
    MaskedConv2d,
    MaskedLinear,
    export_mask,
    import_mask,
    kept_count,
    masked_layers,
    set_remaining_ratio,
    sparsity_report,
    topk_mask,
)
from rstlib.nets.models import build_model


@pytest.mark.parametrize("ratio", [1, 5, 10, 30, 50, 100])
def test_every_layer_keeps_exactly_the_asked_fraction(ratio):
    model = build_model("resnet18", "cifar10", masked=True, width=0.25)
    set_remaining_ratio(model, ratio)
    report = sparsity_report(model)
    assert len(report) == 21  # 17 convs + 3 shortcut convs + the classifier: every layer masked
    for name, r in report.items():
        assert r["kept"] == kept_count(r["numel"], ratio / 100)
        assert abs(r["kept_fraction"] - ratio / 100) <= 0.5 / r["numel"] + 1e-12, name


def test_count_rule_is_exact_when_ratio_times_size_is_integer():
    assert kept_count(1000, 0.05) == 50
    assert kept_count(200, 0.07) == 14
    assert kept_count(3, 0.01) == 1  # at least one weight survives
    with pytest.raises(ValueError):
        kept_count(10, 0.0)


def test_mask_keeps_the_largest_scores():
    s = torch.tensor([[0.1, -5.0, 0.3, 2.0]])
    assert topk_mask(s, 2).tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_search_trains_scores_not_weights():
    layer = MaskedConv2d(3, 8, 3, padding=1)
    layer.set_ratio(0.3)
    w0 = layer.weight.clone()
    layer(torch.randn(2, 3, 8, 8)).square().sum().backward()
    assert layer.weight.grad is None
    assert layer.scores.grad is not None and layer.scores.grad.abs().sum() > 0
    torch.optim.SGD(layer.parameters(), lr=0.1).step()
    assert torch.equal(layer.weight, w0)


def test_fixed_mask_finetuning_trains_weights_not_scores():
    layer = MaskedLinear(6, 4)
    layer.set_ratio(0.5)
    mask = layer.mask().clone()
    layer.set_fixed_mask(mask)
    layer.scores.requires_grad_(False)
    layer.weight.requires_grad_(True)
    layer(torch.randn(5, 6)).sum().backward()
    assert layer.scores.grad is None
    assert layer.weight.grad is not None
    assert torch.all(layer.weight.grad[mask == 0] == 0)  # pruned weights get no gradient
    with torch.no_grad():
        layer.scores.mul_(-1).add_(torch.randn_like(layer.scores))  # scores no longer matter
    assert torch.equal(layer.mask(), mask)


def test_mask_is_reused_across_attack_steps_and_recomputed_after_an_optimiser_step():
    from rstlib.attacks.pgd import PGD

    model = build_model("cnn_small", "fashion_mnist", masked=True, width=0.25)
    set_remaining_ratio(model, 10)
    for n, p in model.named_parameters():
        p.requires_grad_(n.endswith("scores"))
    layers = list(masked_layers(model).values())
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    x, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    masks_before = export_mask(model)
    counts = [layer.mask_computations for layer in layers]
    x_adv = PGD(0.1, 0.03, steps=7)(model, x, y)  # 7 forward/backward passes
    loss = torch.nn.functional.cross_entropy(model(x_adv), y)  # the update's forward
    assert [layer.mask_computations for layer in layers] == counts  # no recomputation
    opt.zero_grad()
    loss.backward()
    opt.step()
    model(x)
    assert [layer.mask_computations for layer in layers] == [c + 1 for c in counts]
    masks_after = export_mask(model)
    assert any(not torch.equal(masks_before[n], masks_after[n]) for n in masks_before)


def test_mask_export_import_round_trip_and_validation():
    a = build_model("cnn_small", "fashion_mnist", masked=True, width=0.25)
    b = build_model("cnn_small", "fashion_mnist", masked=True, width=0.25)
    set_remaining_ratio(a, 20)
    set_remaining_ratio(b, 20)
    masks = export_mask(a)
    import_mask(b, masks)
    assert all(torch.equal(masks[n], m) for n, m in export_mask(b).items())
    bad = dict(masks)
    bad.pop(next(iter(bad)))
    with pytest.raises(ValueError, match="missing"):
        import_mask(b, bad)
    name = next(iter(masks))
    with pytest.raises(ValueError, match="0 or 1"):
        import_mask(b, {**masks, name: masks[name].float() * 0.5})
