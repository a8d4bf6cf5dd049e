"""How good are generated images? Shared by the generative examples (dtm_fashion.py,
quartic_generative.py): small Fashion-MNIST images, a digital classifier that scores samples, the
pixel-marginal and pair-correlation errors against real images, the independent-pixel baseline,
and PNG grids. Nothing is downloaded: the data come from Debian's dataset-fashion-mnist and the
classifier is trained here, in seconds.

The scores (docs/generative.md says how to read them):
- confidence: the classifier's mean top-class probability over the samples (standard error over
  samples, N - 1 degrees of freedom). Real test images score about 0.9.
- diversity: exp of the entropy of the mean predicted class distribution, the effective number of
  classes covered (1 to the number of classes scored).
- score: exp(mean_x KL(p(y|x) || p(y))), the classifier analogue of the inception score: high
  only when every sample is confidently one class AND the classes are spread out. The score the
  issue asks the generators to win on.
- marginal_error: mean over pixels of |P_gen(pixel on) - P_ref(pixel on)|.
- correlation_error: mean over pixel pairs of |<s_i s_j>_gen - <s_i s_j>_ref| with s = 2 x - 1.
Both errors are biased upwards by the finite number of samples; *_floor is the same error for as
many real training images as there are samples (what a perfect generator would get), so read an
error against its floor. Standard errors of diversity, score and the two errors are bootstrap
over the samples (200 resamples).
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402

BOOTSTRAP = 200
_SCORERS: dict = {}  # Scorer.fit's results by its arguments: one training per process


def _pool(images: np.ndarray, size: int) -> np.ndarray:
    """28 x 28 uint8 images to size x size floats in [0, 1] by area averaging."""
    import torch
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.nn.functional.adaptive_avg_pool2d(x, size)
    return y.squeeze(1).reshape(images.shape[0], size * size).numpy()


def load_images(split: str = "train", size: int = 14, classes=None,
                directory: str = fashion_data.DEFAULT_DIR):
    """(images, labels): float32 N x size*size in [0, 1] (28 x 28 pooled by area averaging) and
    int64 labels, only the given classes (indices 0..9) when `classes` is not None."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if not 1 <= size <= 28:
        raise ValueError(f"size must be in [1, 28], not {size}")
    raw = fashion_data.load(directory)
    images, labels = raw[f"{split}_images"], raw[f"{split}_labels"].astype(np.int64)
    if classes is not None:
        keep = np.isin(labels, np.asarray(list(classes)))
        images, labels = images[keep], labels[keep]
    return _pool(images, size), labels


def binarize(images: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """uint8 {0, 1}: 1 where the value is above `threshold`."""
    return (np.asarray(images) > threshold).astype(np.uint8)


def independent_pixel_samples(train01: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n samples of the independent-pixel Bernoulli model fitted to train01 (N x D in {0, 1})."""
    p = np.asarray(train01, dtype=np.float64).mean(axis=0)
    rng = np.random.default_rng(seed)
    return (rng.random((n, p.size)) < p).astype(np.uint8)


def _moments(x01: np.ndarray):
    s = 2.0 * np.asarray(x01, dtype=np.float64) - 1.0
    iu = np.triu_indices(s.shape[1], 1)
    return x01.mean(axis=0), (s.T @ s / s.shape[0])[iu]


class Scorer:
    """A small digital classifier (one hidden layer of 128) on binarized size x size images of
    the chosen classes, and the scores above. Train once with Scorer.fit() and reuse."""

    def __init__(self, model, size: int, classes, reference01: np.ndarray, train01: np.ndarray,
                 test_accuracy: float):
        self.model, self.size, self.classes = model, size, list(classes)
        self.reference01, self.train01 = reference01, train01
        self.test_accuracy = test_accuracy
        self._ref_moments = _moments(reference01)

    @classmethod
    def fit(cls, size: int = 14, classes=None, seed: int = 0, epochs: int = 3,
            threshold: float = 0.5, directory: str = fashion_data.DEFAULT_DIR) -> "Scorer":
        """Trains on the binarized training images (Adam, batch 256, `epochs` epochs, seeded) and
        keeps the binarized test images of the same classes as the reference set. The same
        arguments again return the same Scorer (trained once per process)."""
        classes = list(range(10)) if classes is None else sorted(classes)
        key = (size, tuple(classes), seed, epochs, threshold, directory)
        if key not in _SCORERS:
            _SCORERS[key] = cls._train(size, classes, seed, epochs, threshold, directory)
        return _SCORERS[key]

    @classmethod
    def _train(cls, size, classes, seed, epochs, threshold, directory) -> "Scorer":
        import torch
        x_train, y_train = load_images("train", size, classes, directory)
        x_test, y_test = load_images("test", size, classes, directory)
        train01, test01 = binarize(x_train, threshold), binarize(x_test, threshold)
        index = {c: k for k, c in enumerate(classes)}
        y = torch.tensor([index[int(c)] for c in y_train])
        x = torch.from_numpy(train01.astype(np.float32))
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(size * size, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, len(classes)))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(epochs):
            order = torch.randperm(x.shape[0], generator=gen)
            for b in range(0, x.shape[0] - 255, 256):
                idx = order[b:b + 256]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(torch.from_numpy(test01.astype(np.float32))).argmax(1).numpy()
        truth = np.array([index[int(c)] for c in y_test])
        return cls(model, size, classes, test01, train01, float((pred == truth).mean()))

    def probabilities(self, samples01: np.ndarray) -> np.ndarray:
        import torch
        with torch.no_grad():
            logits = self.model(torch.from_numpy(np.asarray(samples01, dtype=np.float32)))
            return torch.softmax(logits, 1).double().numpy()

    @staticmethod
    def _class_scores(p: np.ndarray):
        mean = p.mean(axis=0)
        entropy = -(mean * np.log(np.clip(mean, 1e-300, None))).sum()
        kl = (p * (np.log(np.clip(p, 1e-300, None)) - np.log(np.clip(mean, 1e-300, None)))).sum(1)
        return float(np.exp(entropy)), float(np.exp(kl.mean()))

    def _errors(self, x01: np.ndarray):
        m, c = _moments(x01)
        ref_m, ref_c = self._ref_moments
        return float(np.abs(m - ref_m).mean()), float(np.abs(c - ref_c).mean())

    def score(self, samples01: np.ndarray, seed: int = 0) -> dict:
        """The scores of N x size*size samples in {0, 1} (see the module's docstring)."""
        x = np.asarray(samples01)
        if x.ndim != 2 or x.shape[1] != self.size * self.size or x.shape[0] < 2:
            raise ValueError(f"samples must be N x {self.size * self.size} with N >= 2, "
                             f"got {x.shape}")
        if not np.isin(x, (0, 1)).all():
            raise ValueError("samples must be 0/1 images (binarize them first)")
        n = x.shape[0]
        p = self.probabilities(x)
        top = p.max(axis=1)
        diversity, score = self._class_scores(p)
        marginal, correlation = self._errors(x)
        rng = np.random.default_rng(seed)
        boot = []
        for _ in range(BOOTSTRAP):
            idx = rng.integers(0, n, n)
            boot.append(self._class_scores(p[idx]) + self._errors(x[idx]))
        boot_sd = np.std(np.asarray(boot), axis=0, ddof=1)
        floor_idx = rng.choice(self.train01.shape[0], size=min(n, self.train01.shape[0]),
                               replace=False)
        floor = self._errors(self.train01[floor_idx])
        return {
            "samples": n,
            "confidence": float(top.mean()),
            "confidence_stderr": float(top.std(ddof=1) / np.sqrt(n)),
            "diversity": diversity, "diversity_stderr": float(boot_sd[0]),
            "score": score, "score_stderr": float(boot_sd[1]),
            "class_histogram": np.bincount(p.argmax(1), minlength=len(self.classes)).tolist(),
            "marginal_error": marginal, "marginal_error_stderr": float(boot_sd[2]),
            "marginal_error_floor": floor[0],
            "correlation_error": correlation, "correlation_error_stderr": float(boot_sd[3]),
            "correlation_error_floor": floor[1],
        }


def write_png_grid(path: str, images: np.ndarray, rows: int, cols: int, image_shape,
                   scale: int = 4) -> None:
    """The first rows x cols images (N x D, values in [0, 1]; 1 is drawn black) as one grey
    PNG, each pixel scale x scale, one-pixel white gaps. Missing images stay white."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import image as mpimg
    h, w = image_shape
    x = np.clip(np.asarray(images, dtype=np.float64), 0.0, 1.0)
    if x.ndim != 2 or x.shape[1] != h * w:
        raise ValueError(f"images must be N x {h * w}, got {x.shape}")
    cell_h, cell_w = h * scale + 1, w * scale + 1
    canvas = np.ones((rows * cell_h + 1, cols * cell_w + 1))
    for k in range(min(rows * cols, x.shape[0])):
        r, c = divmod(k, cols)
        tile = np.kron(x[k].reshape(h, w), np.ones((scale, scale)))
        canvas[1 + r * cell_h:1 + r * cell_h + h * scale,
               1 + c * cell_w:1 + c * cell_w + w * scale] = 1.0 - tile
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    mpimg.imsave(path, canvas, cmap="gray", vmin=0.0, vmax=1.0)
