"""Datasets as in-memory uint8 tensors, deterministic subsets, and a batch loader that does the
training augmentation (random crop with padding, horizontal flip) on the batch's device. What a
dataset is lives in `rstlib.data.specs`, how its files are read in `rstlib.data.readers`.

CIFAR-10/100 and SVHN come through torchvision (downloaded where the machine has internet);
Fashion-MNIST comes offline from Debian's `dataset-fashion-mnist` files (gunzipped into
torchvision's layout, since Debian's recompressed .gz files fail torchvision's md5 check);
scikit-learn's digits (8x8, upsampled to 28x28) serve as a second offline task.
"""

from __future__ import annotations

import functools
from typing import Iterator

import torch
import torch.nn.functional as F

from rstlib.data.readers import (  # noqa: F401
    CIFAR_FILES,
    CIFAR_FOLDERS,
    DEBIAN_FASHION_MNIST,
    _digits,
    _fashion_mnist,
    _torchvision_cifar,
    _torchvision_svhn,
    ensure_fashion_mnist,
    read_cifar,
    read_idx,
    read_svhn,
)
from rstlib.data.specs import (  # noqa: F401
    SPECS,
    DatasetSpec,
    DatasetUnavailable,
    TensorData,
    canonical_name,
    check_dataset,
    data_root,
    dataset_spec,
)


def load(name: str, train: bool, n: int | None = None) -> TensorData:
    """The train or test split of `name`, optionally a deterministic subset of n examples."""
    return _load_full(name, train).subset(n)


def validation(name: str, n: int, n_train: int | None) -> TensorData:
    """n validation images carved from the training split of `name` (never from the test split):
    the last n of the permutation whose first `n_train` images a run trains on, so the two never
    overlap. Hyperparameters are chosen on these (benchmarks/lr_sweep.py)."""
    full = _load_full(name, True)
    if n_train is None or n_train + n > len(full):
        raise ValueError(f"{n} validation images and {n_train} training images overlap in {name}'s {len(full)}")
    return full.holdout(n)


@functools.lru_cache(maxsize=16)
def _load_full(name: str, train: bool) -> TensorData:
    check_dataset(name)
    root = data_root()
    loader = {
        "cifar10": _torchvision_cifar,
        "cifar100": _torchvision_cifar,
        "svhn": _torchvision_svhn,
        "fashion_mnist": _fashion_mnist,
        "digits": _digits,
    }[name]
    return loader(name, train, root)


class BatchLoader:
    """Iterates (images in [0, 1] float, labels) batches on `device`.

    Shuffling and augmentation draw from an explicit generator, so a run that saves and restores
    its state repeats the same batches after a resume."""

    def __init__(
        self,
        data: TensorData,
        batch_size: int,
        device: torch.device,
        shuffle: bool,
        augment: DatasetSpec | None = None,
        generator: torch.Generator | None = None,
        channels_last: bool = False,
    ):
        self.images = data.images.to(device)
        self.labels = data.labels.to(device)
        self.batch_size = batch_size
        self.device = device
        self.shuffle = shuffle
        self.augment = augment
        self.generator = generator or torch.Generator().manual_seed(0)
        self.channels_last = channels_last

    def __len__(self):
        return (len(self.labels) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size].to(self.device)
            x = self.images[idx].float().div_(255)
            if self.augment is not None:
                x = self._augment(x)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, self.labels[idx]

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        spec = self.augment
        assert spec is not None  # called only when the loader augments
        b, c, h, w = x.shape
        p = spec.crop_padding
        if p > 0:
            offsets = torch.randint(0, 2 * p + 1, (2, b), generator=self.generator).to(x.device)
            padded = F.pad(x, (p, p, p, p))
            rows = (offsets[0][:, None] + torch.arange(h, device=x.device))[:, None, :, None]
            cols = (offsets[1][:, None] + torch.arange(w, device=x.device))[:, None, None, :]
            x = padded[
                torch.arange(b, device=x.device)[:, None, None, None],
                torch.arange(c, device=x.device)[None, :, None, None],
                rows,
                cols,
            ]
        if spec.flip:
            flip = (torch.rand(b, generator=self.generator) < 0.5).to(x.device)
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return x
