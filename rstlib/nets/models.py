"""Models: CIFAR ResNet-18, WRN-34-10 ("WideResNet32" in the paper) and a small CNN for 28x28
grayscale inputs. Every conv and the classifier can be masked; batch norm is non-affine; the
input normalisation lives inside the model, so attacks work in [0, 1] pixel space."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from rstlib.data.specs import dataset_spec
from rstlib.errors import ConfigError
from rstlib.nets.masking import MaskedConv2d, MaskedLinear


@dataclass(frozen=True)
class Layers:
    """Builds the layers of one model: masked (RST search, fine-tuning) or dense."""

    masked: bool

    def conv(self, cin, cout, kernel, stride=1, padding=0) -> nn.Module:
        cls = MaskedConv2d if self.masked else nn.Conv2d
        return cls(cin, cout, kernel, stride=stride, padding=padding, bias=False)

    def linear(self, cin, cout) -> nn.Module:
        return MaskedLinear(cin, cout) if self.masked else nn.Linear(cin, cout, bias=False)

    @staticmethod
    def bn(c) -> nn.Module:
        return nn.BatchNorm2d(c, affine=False)


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x):
        return (x - self.mean) / self.std


class BasicBlock(nn.Module):
    def __init__(self, L: Layers, cin, cout, stride):
        super().__init__()
        self.conv1 = L.conv(cin, cout, 3, stride, 1)
        self.bn1 = L.bn(cout)
        self.conv2 = L.conv(cout, cout, 3, 1, 1)
        self.bn2 = L.bn(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(L.conv(cin, cout, 1, stride), L.bn(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet-18: 3x3 stem, no max-pool, stages 64-128-256-512 (x width), 4x4 avg-pool."""

    def __init__(self, L: Layers, in_channels=3, num_classes=10, width=1.0):
        super().__init__()
        widths = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        self.conv1 = L.conv(in_channels, widths[0], 3, 1, 1)
        self.bn1 = L.bn(widths[0])
        layers, cin = [], widths[0]
        for i, c in enumerate(widths):
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(BasicBlock(L, cin, c, stride), BasicBlock(L, c, c, 1)))
            cin = c
        self.layers = nn.Sequential(*layers)
        self.fc = L.linear(cin, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # = 4x4 avg-pool on 32x32 inputs
        return self.fc(out)


class WideBlock(nn.Module):
    """Pre-activation wide basic block, no dropout."""

    def __init__(self, L: Layers, cin, cout, stride):
        super().__init__()
        self.bn1 = L.bn(cin)
        self.conv1 = L.conv(cin, cout, 3, stride, 1)
        self.bn2 = L.bn(cout)
        self.conv2 = L.conv(cout, cout, 3, 1, 1)
        self.equal = cin == cout and stride == 1
        self.shortcut = None if self.equal else L.conv(cin, cout, 1, stride)

    def forward(self, x):
        o = F.relu(self.bn1(x))
        y = self.conv2(F.relu(self.bn2(self.conv1(o))))
        return y + (x if self.equal else self.shortcut(o))


class WideResNet(nn.Module):
    """WRN-depth-k (the paper's 'WideResNet32' is WRN-34-10), pre-activation, 8x8 avg-pool."""

    def __init__(self, L: Layers, depth=34, widen_factor=10, in_channels=3, num_classes=10, width=1.0):
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError("WideResNet depth must be 6n + 4")
        n = (depth - 4) // 6
        widths = [max(1, round(c * width)) for c in (16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor)]
        self.conv1 = L.conv(in_channels, widths[0], 3, 1, 1)
        blocks, cin = [], widths[0]
        for i, c in enumerate(widths[1:]):
            stride = 1 if i == 0 else 2
            blocks.append(nn.Sequential(*[WideBlock(L, cin if j == 0 else c, c, stride if j == 0 else 1) for j in range(n)]))
            cin = c
        self.blocks = nn.Sequential(*blocks)
        self.bn = L.bn(cin)
        self.fc = L.linear(cin, num_classes)

    def forward(self, x):
        out = self.blocks(self.conv1(x))
        out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # = 8x8 avg-pool on 32x32 inputs
        return self.fc(out)


class SmallCNN(nn.Module):
    """Four 3x3 conv layers (32-64-64-128 x width) for 28x28 grayscale inputs, every layer
    maskable; the laptop-scale stand-in for ResNet-18."""

    def __init__(self, L: Layers, in_channels=1, num_classes=10, width=1.0):
        super().__init__()
        c = [max(1, round(k * width)) for k in (32, 64, 64, 128)]
        self.features = nn.Sequential(
            L.conv(in_channels, c[0], 3, 1, 1),
            L.bn(c[0]),
            nn.ReLU(),
            L.conv(c[0], c[1], 3, 2, 1),
            L.bn(c[1]),
            nn.ReLU(),  # 14x14
            L.conv(c[1], c[2], 3, 1, 1),
            L.bn(c[2]),
            nn.ReLU(),
            L.conv(c[2], c[3], 3, 2, 1),
            L.bn(c[3]),
            nn.ReLU(),  # 7x7
        )
        self.fc = L.linear(c[3] * 4, num_classes)

    def forward(self, x):
        # a 2x2 average pool keeps some spatial layout: 4x the features of a global pool for the
        # (masked) classifier, at no conv cost
        out = self.features(x)
        return self.fc(F.adaptive_avg_pool2d(out, 2).flatten(1))


ARCHS: dict[str, Callable[..., nn.Module]] = {
    "resnet18": ResNet18,
    "wrn34_10": lambda L, **kw: WideResNet(L, depth=34, widen_factor=10, **kw),
    "cnn_small": SmallCNN,
}

LABELS = {"resnet18": "ResNet18", "wrn34_10": "WideResNet32", "cnn_small": "SmallCNN"}


class Classifier(nn.Module):
    """Normalisation + network: takes images in [0, 1], returns logits."""

    def __init__(self, net: nn.Module, mean, std):
        super().__init__()
        self.normalize = Normalize(mean, std)
        self.net = net

    def forward(self, x):
        return self.net(self.normalize(x))


def check_arch(name: str):
    if name not in ARCHS:
        raise ConfigError(f"unknown arch {name!r}; choose one of {sorted(ARCHS)}")


def build_model(arch: str, dataset: str, masked: bool, width: float = 1.0) -> Classifier:
    """The network `arch` for `dataset`'s input shape and classes, masked or dense."""
    check_arch(arch)
    spec = dataset_spec(dataset)
    net = ARCHS[arch](Layers(masked), in_channels=spec.channels, num_classes=spec.num_classes, width=width)
    return Classifier(net, spec.mean, spec.std)
