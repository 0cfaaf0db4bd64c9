import pytest
import torch
import torch.nn as nn

from rstlib.nets.inits import INITS, initialise
from rstlib.nets.masking import MaskedLayer, masked_layers
from rstlib.nets.models import build_model


@pytest.mark.parametrize(
    "arch,dataset,width,shape",
    [
        ("resnet18", "cifar10", 0.125, (2, 3, 32, 32)),
        ("wrn34_10", "cifar100", 0.05, (2, 3, 32, 32)),
        ("cnn_small", "fashion_mnist", 0.5, (2, 1, 28, 28)),
    ],
)
def test_models_masked_and_dense_share_one_definition(arch, dataset, width, shape):
    masked = build_model(arch, dataset, masked=True, width=width)
    dense = build_model(arch, dataset, masked=False, width=width)
    n_classes = 100 if dataset == "cifar100" else 10
    assert masked(torch.rand(shape)).shape == (2, n_classes)
    assert dense(torch.rand(shape)).shape == (2, n_classes)
    convs = [m for m in masked.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert convs and all(isinstance(m, MaskedLayer) for m in convs)  # every layer masked
    assert all(m.bias is None for m in convs)
    assert all(not bn.affine for bn in masked.modules() if isinstance(bn, nn.BatchNorm2d))
    # a dense state fits the masked model (RTTs search masks over trained dense weights)
    missing, unexpected = masked.load_state_dict(dense.state_dict(), strict=False)
    assert not unexpected and all(k.endswith("scores") for k in missing)


def test_wrn34_10_has_paper_depth():
    model = build_model("wrn34_10", "cifar10", masked=True, width=0.05)
    assert len(masked_layers(model)) == 1 + 3 * 5 * 2 + 3 + 1  # stem, 15 blocks x 2, shortcuts, fc


def test_same_seed_same_random_network_across_tasks():
    a = build_model("cnn_small", "fashion_mnist", masked=True)
    b = build_model("cnn_small", "digits", masked=True)
    initialise(a, "signed_kaiming_constant", seed=3)
    initialise(b, "signed_kaiming_constant", seed=3)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert torch.equal(p, q), n


@pytest.mark.parametrize("init", sorted(INITS))
def test_inits_have_kaiming_scale(init):
    model = build_model("cnn_small", "fashion_mnist", masked=True)
    initialise(model, init, seed=0)
    layer = model.net.features[6]  # 64 -> 64, 3x3: fan_in 576
    w = layer.weight
    expected = (2 / 576) ** 0.5 if init != "xavier_normal" else (2 / (576 + 576)) ** 0.5
    assert abs(w.std().item() - expected) / expected < 0.05
    if init == "signed_kaiming_constant":
        assert torch.allclose(w.abs(), torch.full_like(w, (2 / 576) ** 0.5))
