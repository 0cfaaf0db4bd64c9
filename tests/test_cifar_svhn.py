"""The CIFAR-10/100 and SVHN loading code (the paper profile's only data path) on small files
written in torchvision's on-disk formats, and a search and an evaluation on fake CIFAR-10 through
the paper profile's code path (ResNet-18, narrow, a handful of images)."""

import dataclasses
import pickle

import numpy as np
import pytest

from rstlib import data
from rstlib.config.profile import load_profile
from rstlib.paper.context import Context
from rstlib.store.runstore import RunStore
from rstlib.train import variants as ex


def _cifar_batch(path, n, rng, label_key="labels", classes=10):
    labels = rng.integers(0, classes, n).tolist()
    images = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    with open(path, "wb") as f:
        pickle.dump({"data": images, label_key: labels, "batch_label": "fake"}, f)
    return images.reshape(n, 3, 32, 32), labels


@pytest.fixture(scope="module")
def fake_root(tmp_path_factory):
    """RST_DATA with fake CIFAR-10 (5 x 8 train, 16 test), CIFAR-100 (16 / 8) and SVHN (12 / 6)."""
    import scipy.io

    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    truth = {}
    c10 = root / "cifar-10-batches-py"
    c10.mkdir()
    parts = [_cifar_batch(c10 / f"data_batch_{i}", 8, rng) for i in range(1, 6)]
    truth["cifar10", True] = (np.concatenate([p[0] for p in parts]), sum((p[1] for p in parts), []))
    truth["cifar10", False] = _cifar_batch(c10 / "test_batch", 16, rng)
    c100 = root / "cifar-100-python"
    c100.mkdir()
    truth["cifar100", True] = _cifar_batch(c100 / "train", 16, rng, "fine_labels", 100)
    truth["cifar100", False] = _cifar_batch(c100 / "test", 8, rng, "fine_labels", 100)
    (root / "svhn").mkdir()
    for split, n in (("train", 12), ("test", 6)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = rng.integers(1, 11, (n, 1)).astype(np.uint8)  # SVHN stores the digit 0 as 10
        scipy.io.savemat(str(root / "svhn" / f"{split}_32x32.mat"), {"X": x, "y": y})
        truth["svhn", split == "train"] = (np.transpose(x, (3, 2, 0, 1)), (y.reshape(-1) % 10).tolist())
    return root, truth


def fake_md5(root):
    """The md5 of every fake CIFAR file: they stand in for torchvision's published ones."""
    import hashlib

    return {
        name: {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in (root / folder).iterdir()}
        for name, folder in data.CIFAR_FOLDERS.items()
    }


@pytest.fixture
def on_fake_data(fake_root, monkeypatch):
    root, truth = fake_root
    monkeypatch.setenv("RST_DATA", str(root))
    md5 = fake_md5(root)
    monkeypatch.setattr(data.readers, "expected_md5", lambda name: md5[name])
    data._load_full.cache_clear()
    yield root, truth
    data._load_full.cache_clear()


@pytest.mark.parametrize("name", ["cifar10", "cifar100", "svhn"])
@pytest.mark.parametrize("train", [True, False])
def test_torchvision_format_files_load_without_download(on_fake_data, monkeypatch, name, train):
    import torchvision

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", lambda *a, **k: pytest.fail("downloaded"))
    _, truth = on_fake_data
    images, labels = truth[name, train]
    loaded = data.load(name, train=train)
    assert tuple(loaded.images.shape) == (len(labels), 3, 32, 32)
    assert np.array_equal(loaded.images.numpy(), images) and loaded.labels.tolist() == labels
    assert 0 <= min(labels) and max(labels) < data.dataset_spec(name).num_classes


def test_a_missing_dataset_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RST_DATA", str(tmp_path))
    import torchvision

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", lambda self: (_ for _ in ()).throw(OSError("offline")))
    data._load_full.cache_clear()
    with pytest.raises(data.DatasetUnavailable, match="RST_DATA"):
        data.load("cifar10", train=False)
    data._load_full.cache_clear()


def test_search_and_evaluation_on_fake_cifar10_through_the_paper_code_path(on_fake_data, smoke, tmp_path):
    paper = load_profile("paper")
    p = dataclasses.replace(
        paper,
        name="fake-cifar",
        archs={"resnet18": 0.125},
        n_train=None,
        n_test=None,
        eval_n_test=8,
        search=dataclasses.replace(paper.search, epochs=1, batch_size=16),
        evaluation=dataclasses.replace(paper.evaluation, steps=2, batch_size=8, strong_images=4),
    )
    ctx = Context(p, RunStore(tmp_path / "runs"), device="cpu", progress=False, announce=False)
    rst = ex.search_config(p, "cifar10", "resnet18", 10)
    assert rst.train.eps == 8 and rst.train.steps == 7  # the supplement's PGD-7 search at eps 8/255
    natural, robust = ctx.natural(rst), ctx.accuracy(rst)
    ctx.strong(rst)
    strong = ctx.evaluator().strong(ctx.run(rst), ctx.pgd, 4, p.evaluation.strong_attack)  # cached by ctx.strong
    metrics = ctx.store.dir(rst).metrics()
    assert metrics["n_train"] == 40 and metrics["n_test"] == 16 and 0 <= natural <= 100 and 0 <= robust <= 100
    # over the first 4 attacked images, where AutoAttack ran: never above PGD-20 on those images
    assert strong["n"] == 4 and 0 <= strong["acc"] <= strong["pgd20_first"] <= 100
    assert abs(metrics["kept_fraction"] - 0.10) < 0.01
