"""Fashion-MNIST from Debian's dataset-fashion-mnist package, read with numpy (never downloaded).

The package installs the four gzip-compressed IDX files of Zalando's release under
/usr/share/datasets/fashion-mnist/. IDX: a big-endian header (two zero bytes, a type code,
the number of dimensions, then one uint32 per dimension) followed by the data; the images are
uint8 (type 0x08, 3 dimensions: count x 28 x 28), the labels uint8 (1 dimension).
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")


class DatasetMissing(FileNotFoundError):
    """The Fashion-MNIST files are not installed; the message says how to install them."""


def missing_files(directory: str = DEFAULT_DIR) -> list[str]:
    """Paths of the four files that are not there (empty when the dataset is installed)."""
    return [os.path.join(directory, name) for name in FILES.values()
            if not os.path.isfile(os.path.join(directory, name))]


def read_idx(path: str) -> np.ndarray:
    """One gzip-compressed IDX file as a numpy array (uint8 data only, which is all Fashion-MNIST
    uses). Raises ValueError naming the file when the header is not what IDX says."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (the first two bytes must be zero)")
    type_code, ndim = data[2], data[3]
    if type_code != 0x08:
        raise ValueError(f"{path}: IDX type code 0x{type_code:02x}, expected 0x08 (uint8)")
    header = 4 + 4 * ndim
    shape = struct.unpack(">" + "I" * ndim, data[4:header])
    count = int(np.prod(shape))
    if len(data) - header != count:
        raise ValueError(f"{path}: header says {shape} = {count} bytes of data, "
                         f"the file holds {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load(directory: str = DEFAULT_DIR) -> dict[str, np.ndarray]:
    """The four arrays: train_images (60000 x 28 x 28 uint8), train_labels (60000), test_images
    (10000 x 28 x 28) and test_labels (10000). Raises DatasetMissing naming the missing files and
    the Debian package that installs them."""
    missing = missing_files(directory)
    if missing:
        raise DatasetMissing(
            "Fashion-MNIST is not installed: missing " + ", ".join(missing) + ". Install "
            "Debian's package with `apt-get install dataset-fashion-mnist` (as root), or pass "
            "--data-dir with a folder holding the four IDX .gz files. This example never "
            "downloads anything.")
    arrays = {key: read_idx(os.path.join(directory, name)) for key, name in FILES.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.shape[1:] != (28, 28) or images.shape[0] != labels.shape[0]:
            raise ValueError(f"{split} images {images.shape} and labels {labels.shape} "
                             "do not match Fashion-MNIST's layout")
        if labels.max() > 9:
            raise ValueError(f"{split} labels go up to {labels.max()}, expected 0..9")
    return arrays


def to_features(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Flattened float32 features: pixels / 255, standardized with the training set's mean and
    standard deviation (one number each, over every pixel)."""
    x = images.reshape(images.shape[0], -1).astype(np.float32) / 255.0
    return (x - np.float32(mean)) / np.float32(std)


def batch_schedule(n_train: int, batch_size: int, epochs: int, seed: int,
                   max_steps: int | None = None) -> list[np.ndarray]:
    """The index arrays of every mini-batch in order: one permutation of the training set per
    epoch from numpy's PCG64 seeded with `seed` (the last, incomplete batch of an epoch is
    dropped, so every batch has batch_size examples), cut at max_steps. Built once and shared
    by every optimizer, so all see the same batches in the same order."""
    rng = np.random.default_rng(seed)
    per_epoch = n_train // batch_size
    batches: list[np.ndarray] = []
    for _ in range(epochs):
        order = rng.permutation(n_train)
        for b in range(per_epoch):
            batches.append(order[b * batch_size:(b + 1) * batch_size])
            if max_steps is not None and len(batches) >= max_steps:
                return batches
    return batches


def features(directory: str = DEFAULT_DIR, test_examples: int = 10000) -> dict:
    """The example's inputs: x_train (60000 x 784 float32), y_train (int64), and the first
    `test_examples` test images and labels as x_test, y_test, standardized with the training
    set's pixel mean and standard deviation (also returned, as mean and std)."""
    raw = load(directory)
    train = raw["train_images"].astype(np.float64) / 255.0
    mean, std = float(train.mean()), float(train.std())
    n_test = min(test_examples, raw["test_images"].shape[0])
    return {
        "x_train": to_features(raw["train_images"], mean, std),
        "y_train": raw["train_labels"].astype(np.int64),
        "x_test": to_features(raw["test_images"][:n_test], mean, std),
        "y_test": raw["test_labels"][:n_test].astype(np.int64),
        "mean": mean, "std": std,
    }
