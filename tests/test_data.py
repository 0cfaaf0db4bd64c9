import pytest
import torch

from rstlib import data


def test_fashion_mnist_offline_and_deterministic_subsets():
    full = data.load("fashion_mnist", train=False)
    assert full.images.shape == (10000, 1, 28, 28) and full.images.dtype == torch.uint8
    a, b = data.load("fashion_mnist", train=True, n=300), data.load("fashion_mnist", train=True, n=300)
    assert torch.equal(a.images, b.images) and len(a) == 300
    assert len(set(a.labels.tolist())) == 10


def test_digits_are_a_second_28x28_task():
    train, test = data.load("digits", train=True), data.load("digits", train=False)
    assert train.images.shape[1:] == (1, 28, 28) and len(train) + len(test) == 1797


def test_augmentation_keeps_shape_range_and_is_reproducible():
    d = data.load("fashion_mnist", train=True, n=64)
    spec = data.dataset_spec("fashion_mnist")
    runs = []
    for _ in range(2):
        loader = data.BatchLoader(
            d, 32, torch.device("cpu"), shuffle=True, augment=spec, generator=torch.Generator().manual_seed(5)
        )
        runs.append([x for x, _ in loader])
    assert all(torch.equal(p, q) for p, q in zip(*runs))
    x = runs[0][0]
    assert x.shape == (32, 1, 28, 28) and x.min() >= 0 and x.max() <= 1


def test_missing_dataset_names_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data.readers, "DEBIAN_FASHION_MNIST", tmp_path / "absent")
    with pytest.raises(data.DatasetUnavailable, match="apt-get install dataset-fashion-mnist"):
        data.ensure_fashion_mnist(tmp_path / "root")


def test_undownloadable_cifar_gets_one_clear_error(tmp_path, monkeypatch):
    import torchvision

    def no_internet(*a, download=False, **k):
        raise RuntimeError("Dataset not found" if not download else "network unreachable")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", no_internet)
    monkeypatch.setenv("RST_DATA", str(tmp_path))
    data._load_full.cache_clear()
    with pytest.raises(data.DatasetUnavailable, match="could not be downloaded"):
        data.load("cifar10", train=False)
