"""The datasets the package knows (name, shape, test size, augmentation), where their files live,
and a dataset as in-memory uint8 tensors with deterministic subsets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from rstlib.errors import ConfigError


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    label: str
    channels: int
    size: int
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_padding: int  # random-crop padding of the training augmentation (0 = none)
    flip: bool
    train_size: int  # images in the full training / test split
    test_size: int


SPECS = {
    "cifar10": DatasetSpec(
        "cifar10", "CIFAR-10", 3, 32, 10, (0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616), 4, True, 50_000, 10_000
    ),
    "cifar100": DatasetSpec(
        "cifar100", "CIFAR-100", 3, 32, 100, (0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616), 4, True, 50_000, 10_000
    ),
    "svhn": DatasetSpec("svhn", "SVHN", 3, 32, 10, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 4, False, 73_257, 26_032),
    "fashion_mnist": DatasetSpec("fashion_mnist", "Fashion-MNIST", 1, 28, 10, (0.2860,), (0.3530,), 2, True, 60_000, 10_000),
    "digits": DatasetSpec("digits", "digits (sklearn, 28x28)", 1, 28, 10, (0.3053,), (0.3247,), 2, False, 1_297, 500),
}


class DatasetUnavailable(RuntimeError):
    """The dataset is not on disk and cannot be downloaded; the message says how to get it."""


def canonical_name(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def check_dataset(name: str):
    if name not in SPECS:
        raise ConfigError(f"unknown dataset {name!r}; choose one of {sorted(SPECS)}")


def dataset_spec(name: str) -> DatasetSpec:
    check_dataset(name)
    return SPECS[name]


def data_root() -> Path:
    return Path(os.environ.get("RST_DATA", Path.cwd() / "data")).expanduser()


@dataclass(frozen=True)
class TensorData:
    """Images as uint8 (N, C, H, W) and int64 labels."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self):
        return len(self.labels)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(images as floats in [0, 1], labels): what a classifier and an attack library take."""
        return self.images.float() / 255, self.labels

    def subset(self, n: int | None, seed: int = 0) -> "TensorData":
        """The first n examples of a fixed permutation (same subset for every run)."""
        if n is None or n >= len(self):
            return self
        if n < 1:
            raise ValueError(f"subset size must be >= 1, got {n}")
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
        idx = idx.sort().values
        return TensorData(self.images[idx], self.labels[idx])

    def holdout(self, n: int, seed: int = 0) -> "TensorData":
        """The last n examples of the same fixed permutation as `subset`: on a training split, the
        validation images. They are disjoint from every training subset of at most len - n images."""
        if not 1 <= n < len(self):
            raise ValueError(f"a holdout needs 1 <= n < {len(self)}, got {n}")
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[len(self) - n :]
        idx = idx.sort().values
        return TensorData(self.images[idx], self.labels[idx])
