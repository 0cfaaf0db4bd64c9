"""Reading each dataset from disk, checked: Fashion-MNIST's idx files (offline, from Debian's
package), CIFAR's pickled batches (arrays only) and SVHN through torchvision (downloaded where there
is internet, md5-verified), scikit-learn's digits."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import shutil
import socket
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rstlib.data.specs import SPECS, DatasetUnavailable, TensorData

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


FASHION_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


CIFAR_FILES = {
    ("cifar10", True): [f"data_batch_{i}" for i in range(1, 6)],
    ("cifar10", False): ["test_batch"],
    ("cifar100", True): ["train"],
    ("cifar100", False): ["test"],
}


def _cifar_files_present(name: str, root: Path) -> bool:
    return all((root / CIFAR_FOLDERS[name] / f).is_file() for t in (True, False) for f in CIFAR_FILES[(name, t)])


def _torchvision_cifar(name, train, root):
    """CIFAR-10/100 from torchvision's on-disk format (the pickled batches of
    `cifar-10-batches-py/` or `cifar-100-python/` under RST_DATA), read here once each file
    matches torchvision's published md5; torchvision is asked only to download them when absent."""
    if not _cifar_files_present(name, root):
        import torchvision

        cls = torchvision.datasets.CIFAR10 if name == "cifar10" else torchvision.datasets.CIFAR100
        _download_or_explain(lambda dl: cls(root, train=train, download=dl), name, root)
    return read_cifar(root / CIFAR_FOLDERS[name], CIFAR_FILES[(name, train)], name, expected_md5(name))


def expected_md5(name: str) -> dict[str, str]:
    """md5 of every file of a torchvision dataset folder, as torchvision publishes them."""
    import torchvision

    cls = {"cifar10": torchvision.datasets.CIFAR10, "cifar100": torchvision.datasets.CIFAR100}[name]
    return dict(cls.train_list + cls.test_list)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles CIFAR's batches (dicts, lists, bytes and numpy arrays) and refuses any other
    global: a pickle cannot run code through it."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        return super().find_class(module, name)


def read_cifar(folder: Path, files: list[str], name: str = "cifar10", md5: dict[str, str] | None = None) -> TensorData:
    """Concatenate CIFAR pickled batches: `data` (N x 3072 uint8, channel-major) and `labels`
    (CIFAR-10) or `fine_labels` (CIFAR-100). With `md5`, a file whose md5 differs is refused before
    it is unpickled; every file is unpickled with arrays-only globals."""
    images, labels = [], []
    for f in files:
        path = folder / f
        raw = path.read_bytes()
        if md5 is not None and hashlib.md5(raw).hexdigest() != md5.get(f):
            raise DatasetUnavailable(
                f"{path} does not match torchvision's published md5, so it was not read "
                f"(a pickle can run code): delete {folder} and let torchvision download it again"
            )
        try:
            batch = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
            images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.extend(batch["labels"] if "labels" in batch else batch["fine_labels"])
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as e:
            raise DatasetUnavailable(
                f"{path} is not a CIFAR batch ({type(e).__name__}: {e}): delete {folder} and let torchvision download it again"
            ) from None
    return TensorData(torch.from_numpy(np.concatenate(images)).contiguous(), torch.tensor(labels, dtype=torch.int64))


def _torchvision_svhn(name, train, root):
    """SVHN from torchvision's on-disk format (`svhn/{train,test}_32x32.mat` under RST_DATA), read
    here with scipy; torchvision is asked only to download it when it is absent."""
    split = "train" if train else "test"
    path = root / "svhn" / f"{split}_32x32.mat"
    if not path.is_file():
        import torchvision

        _download_or_explain(lambda dl: torchvision.datasets.SVHN(root / "svhn", split=split, download=dl), name, root)
    return read_svhn(path)


def read_svhn(path: Path) -> TensorData:
    """An SVHN .mat file: X (32, 32, 3, N) uint8 and y (N, 1) with the digit 0 stored as 10."""
    import scipy.io

    mat = scipy.io.loadmat(str(path))
    images = torch.from_numpy(np.transpose(mat["X"], (3, 2, 0, 1)).copy())
    labels = torch.from_numpy(mat["y"].astype(np.int64).reshape(-1) % 10)
    return TensorData(images.contiguous(), labels)


DOWNLOAD_HOSTS = {"cifar10": "www.cs.toronto.edu", "cifar100": "www.cs.toronto.edu", "svhn": "ufldl.stanford.edu"}


PROBE_SECONDS = 5.0  # how long to wait for the download host before saying that it cannot be reached


def reachable(host: str, timeout: float = PROBE_SECONDS) -> bool:
    """Whether `host` answers on HTTPS within `timeout` seconds (before a download is tried)."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _download_or_explain(make, name, root):
    try:
        return make(False)
    except (RuntimeError, FileNotFoundError):
        pass
    advice = (
        "On a machine with internet, any command that uses it downloads it there (torchvision); or set "
        "RST_DATA to a folder holding torchvision's files."
    )
    folders = [root / "svhn", root / CIFAR_FOLDERS.get(name, "")]
    existed = {f for f in folders if f.exists()}
    try:
        if not reachable(DOWNLOAD_HOSTS[name]):
            raise DatasetUnavailable(
                f"{SPECS[name].label} is not under {root} and its download host "
                f"{DOWNLOAD_HOSTS[name]} cannot be reached. {advice}"
            )
        return make(True)
    except DatasetUnavailable:
        raise
    except Exception as e:  # no internet, proxy, disk: one clear message
        raise DatasetUnavailable(
            f"{SPECS[name].label} is not under {root} and could not be downloaded ({type(e).__name__}: {e}). {advice}"
        ) from None
    finally:
        for folder in folders:  # leave no empty folder behind a failed download
            if folder not in existed and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def ensure_fashion_mnist(root: Path) -> Path:
    """Put the raw idx files into `root/FashionMNIST/raw`, gunzipping Debian's copies."""
    raw = root / "FashionMNIST" / "raw"
    if all((raw / f).is_file() for f in FASHION_FILES):
        return raw
    if not all((DEBIAN_FASHION_MNIST / f"{f}.gz").is_file() for f in FASHION_FILES):
        raise DatasetUnavailable(
            f"Fashion-MNIST is not under {raw} and Debian's copy is absent: install it with "
            f"`apt-get install dataset-fashion-mnist` (or `make data`), or place the four idx files "
            f"{', '.join(FASHION_FILES)} in {raw}."
        )
    tmp = None
    try:
        raw.mkdir(parents=True, exist_ok=True)
        for f in FASHION_FILES:
            tmp = raw / f"{f}.tmp{os.getpid()}"
            with gzip.open(DEBIAN_FASHION_MNIST / f"{f}.gz", "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, raw / f)
    except OSError as e:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise DatasetUnavailable(
            f"cannot unpack Fashion-MNIST into {raw} ({e.strerror or e}): set RST_DATA to a "
            "writable folder, or place the four idx files there"
        ) from None
    return raw


def _fashion_mnist(name, train, root):
    raw = ensure_fashion_mnist(root)
    prefix = "train" if train else "t10k"
    images = read_idx(raw / f"{prefix}-images-idx3-ubyte", 2051)
    labels = read_idx(raw / f"{prefix}-labels-idx1-ubyte", 2049)
    if len(images) != len(labels):
        raise DatasetUnavailable(
            f"{raw}: {len(images)} images but {len(labels)} labels; delete the four files "
            "and run `make data` (Debian's copy is unpacked again)"
        )
    if labels.min() < 0 or labels.max() >= SPECS[name].num_classes:
        raise DatasetUnavailable(
            f"{raw / f'{prefix}-labels-idx1-ubyte'} holds labels outside 0-9; delete it and run "
            "`make data` (Debian's copy is unpacked again)"
        )
    return TensorData(torch.from_numpy(images).unsqueeze(1).contiguous(), torch.from_numpy(labels.astype(np.int64)))


def read_idx(path: Path, magic: int) -> np.ndarray:
    """An uncompressed idx file (MNIST's format: big-endian magic, dimensions, uint8 data) as an
    array; DatasetUnavailable naming the file when it is damaged."""
    fix = "delete it and run `make data` (Debian's copy is unpacked again)"
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetUnavailable(f"cannot read {path} ({e.strerror or e}): {fix}") from None
    dims = magic - 2048  # 2049: labels (1 dimension), 2051: images (3)
    if len(raw) < 4 + 4 * dims or int.from_bytes(raw[:4], "big") != magic:
        raise DatasetUnavailable(
            f"{path} is not an idx file of {'labels' if dims == 1 else 'images'} (wrong magic number): {fix}"
        )
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    body = raw[4 + 4 * dims :]
    if len(body) != int(np.prod(shape)):
        raise DatasetUnavailable(f"{path} is truncated or too long ({len(body)} bytes of data for shape {shape}): {fix}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()


def _digits(name, train, root):
    """scikit-learn's 1,797 digits, upsampled to 28x28; fixed split: 1,297 train / 500 test."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=28, mode="bilinear", align_corners=False).clamp(0, 1)
    images = (x * 255).round().to(torch.uint8)
    labels = torch.tensor(d.target, dtype=torch.int64)
    perm = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    n_train = SPECS["digits"].train_size
    idx = perm[:n_train] if train else perm[n_train:]
    idx = idx.sort().values
    return TensorData(images[idx], labels[idx])
