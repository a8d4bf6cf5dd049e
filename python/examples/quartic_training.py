"""Whitelam's generative thermodynamic computer (PRL 136, 037101; shared/reference.md section 5)
mapped onto the quartic resonator board, trained by maximizing the likelihood of time-reversed
noising paths under the board's exact Strang substep, quantization-aware.

Model units (Whitelam): V = sum_i (J2 x_i^2 + J4_i x_i^4 - beta_i x_i) + sum_{i<j} J_ij x_i x_j,
J2 = J4 = 1, kT = 0.1, mu = 1, t_f = 2.5. Board = model with every rate times alpha (1/us):
A = alpha (2 J2 I + J), b = alpha beta, J4_board = alpha J4, D = alpha kT; x (volts) unchanged,
so one model time unit is 1/alpha us. Heat in kT is the same in both.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

import quartic_step as qs

J2, J4, KT, T_F = 1.0, 1.0, 0.1, 2.5


@dataclass
class Setup:
    alpha: float = 0.1          # 1/us: t_f = 25 samples = 400 substeps
    visible: int = 196
    hidden: int = 60
    rows: int = 14
    cols: int = 14
    seed: int = 0

    @property
    def cells(self) -> int:
        return self.visible + self.hidden

    @property
    def samples_tf(self) -> int:  # t_f in sample periods
        return int(round(T_F / self.alpha / qs.PERIOD_US))

    @property
    def substeps_tf(self) -> int:
        return self.samples_tf * qs.SUBSTEPS

    @property
    def d(self) -> float:  # diffusion as the noise DAC realizes it
        return float(qs.codes_uint16(self.alpha * KT, qs.D_LSB)) * qs.D_LSB


def kmeans_prototypes(images: np.ndarray, k: int, seed: int, iters: int = 20) -> np.ndarray:
    """k centroids of the images (Lloyd's algorithm from k random images)."""
    rng = np.random.default_rng(seed)
    centers = images[rng.choice(images.shape[0], k, replace=False)].astype(np.float64)
    for _ in range(iters):
        dist = ((images[:, None, :] - centers[None]) ** 2).sum(-1) if images.shape[0] * k < 4e5 \
            else np.stack([((images - c) ** 2).sum(1) for c in centers], 1)
        label = dist.argmin(1)
        for j in range(k):
            if (label == j).any():
                centers[j] = images[label == j].mean(0)
    return centers


@dataclass
class Data:
    prototypes01: np.ndarray     # P x visible, {0, 1}
    labels: np.ndarray           # class of each prototype
    s: np.ndarray                # standardized prototypes, P x visible
    force: np.ndarray            # P x cells: (s, P^T s)
    projection: np.ndarray       # visible x hidden, N(0, 1/visible)
    mean: float
    sd: float
    x_off: float                 # encoded volts of an "off" pixel (x + 2x^3 = s_off)
    x_on: float
    x_threshold: float           # encoded volts of grey level 0.5 (the binarization threshold)


def encoded_volts(s: float) -> float:
    """Equilibrium of the encoding force: 2 J2 x + 4 J4 x^3 = 2 s, i.e. x + 2 x^3 = s."""
    roots = np.roots([2.0, 0.0, 1.0, -s])
    return float(roots[np.argmin(np.abs(roots.imag))].real)


def make_data(setup: Setup, train_images: np.ndarray, train_labels: np.ndarray, classes,
              per_class: int) -> Data:
    protos, labels = [], []
    for c in classes:
        centers = kmeans_prototypes(train_images[train_labels == c], per_class, setup.seed + c)
        protos.append((centers > 0.5).astype(np.uint8))
        labels += [c] * per_class
    p01 = np.concatenate(protos)
    mean, sd = float(p01.mean()), float(p01.std())
    s = (p01 - mean) / sd
    rng = np.random.default_rng(setup.seed + 1000)
    proj = rng.normal(0.0, 1.0 / math.sqrt(setup.visible), (setup.visible, setup.hidden))
    force = np.concatenate([s, s @ proj], 1)
    x_off, x_on = encoded_volts(-mean / sd), encoded_volts((1 - mean) / sd)
    return Data(p01, np.asarray(labels), s, force, proj, mean, sd, x_off, x_on,
                encoded_volts((0.5 - mean) / sd))


def noising_paths(setup: Setup, force: np.ndarray, gen: torch.Generator) -> torch.Tensor:
    """Encoding (from 0, constant force 2 f for t_f) then noising (force a(t) f, a(t) =
    2 (1 - t / 0.75 t_f) then 0) with the board's substep, uncoupled, unquantized J2/J4/kT.
    Returns the noising paths S x (K+1) x n (substep resolution)."""
    n, k = setup.cells, setup.substeps_tf
    step = qs.DiagonalStrang(np.full(n, setup.alpha * 2 * J2), np.full(n, setup.alpha * J4),
                             setup.alpha * KT)
    f = torch.as_tensor(force, dtype=torch.float64) * setup.alpha
    x = torch.zeros(f.shape, dtype=torch.float64)
    encoded = step.path(x, (2.0 * f).expand(k, *f.shape), gen)[:, -1]
    t = (np.arange(k) + 0.5) * qs.TAU * setup.alpha       # model time of each substep's middle
    a = np.where(t < 0.75 * T_F, 2.0 * (1.0 - t / (0.75 * T_F)), 0.0)
    biases = torch.as_tensor(a, dtype=torch.float64)[:, None, None] * f[None]
    return step.path(encoded, biases, gen)


class Model(torch.nn.Module):
    """Trainable couplings (visible-hidden and hidden-hidden, as in the paper), biases and quartic
    terms in model units; board() gives (A, b, J4) in board units, quantized to the DAC codes
    with straight-through gradients when quantized=True."""

    def __init__(self, setup: Setup, train_quartic: bool = True):
        super().__init__()
        v, h = setup.visible, setup.hidden
        self.setup = setup
        self.vh = torch.nn.Parameter(torch.zeros(v, h, dtype=torch.float64))
        self.hh = torch.nn.Parameter(torch.zeros(h, h, dtype=torch.float64))
        self.bias = torch.nn.Parameter(torch.zeros(v + h, dtype=torch.float64))
        self.quartic = torch.nn.Parameter(torch.full((v + h,), J4, dtype=torch.float64),
                                          requires_grad=train_quartic)

    def couplings(self) -> torch.Tensor:
        v, h = self.setup.visible, self.setup.hidden
        hh = torch.triu(self.hh, 1)
        top = torch.cat([torch.zeros(v, v, dtype=torch.float64), self.vh], 1)
        bottom = torch.cat([self.vh.T, hh + hh.T], 1)
        return torch.cat([top, bottom], 0)

    def board(self, quantized: bool = True):
        al = self.setup.alpha
        n = self.setup.cells
        a = al * (2 * J2 * torch.eye(n, dtype=torch.float64) + self.couplings())
        b = al * self.bias
        j4 = al * torch.clamp(self.quartic, min=0.0)
        if quantized:
            a = qs.quantize_ste(a, qs.A_LSB, -qs.INT16_MAX, qs.INT16_MAX)
            b = qs.quantize_ste(b, qs.B_LSB, -qs.INT16_MAX, qs.INT16_MAX)
            j4 = qs.quantize_ste(j4, qs.J4_LSB, 0, qs.UINT16_MAX)
        return a, b, j4


@dataclass
class TrainResult:
    losses: list = field(default_factory=list)  # per iteration: NLL per transition (nats)
    validation_before: float = 0.0
    validation_after: float = 0.0
    validation_stderr: float = 0.0
    seconds: float = 0.0
    iterations: int = 0


def validation_nll(model: Model, paths: torch.Tensor) -> tuple[float, float]:
    """Mean NLL per transition over the validation paths and its standard error over paths."""
    with torch.no_grad():
        a, b, j4 = model.board(True)
        per = [float(qs.path_nll(paths[i:i + 1], a, b, j4, model.setup.d))
               for i in range(paths.shape[0])]
    return float(np.mean(per)), float(np.std(per, ddof=1) / math.sqrt(len(per)))


def reversed_paths(setup: Setup, data: Data, count: int, gen: torch.Generator, rng) -> torch.Tensor:
    """count time-reversed noising paths of randomly chosen prototypes (count x (K+1) x n)."""
    idx = rng.integers(0, len(data.force), count)
    with torch.no_grad():
        return torch.flip(noising_paths(setup, data.force[idx], gen), [1])


def train(model: Model, data: Data, iterations: int, batch: int, lr: float, seed: int,
          transitions: int = 100, pool: int = 64, refresh: int = 10, log=None) -> TrainResult:
    """Adam (cosine-decayed lr) on the reverse-path NLL. Each iteration takes `batch` paths from a
    pool of `pool` fresh noising paths (redrawn every `refresh` iterations) and `transitions`
    random substep transitions of each: an unbiased estimate of the mean NLL per transition."""
    setup = model.setup
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    val_idx = np.arange(max(8, len(data.force))) % len(data.force)
    val = noising_paths(setup, data.force[val_idx], torch.Generator().manual_seed(seed + 7))
    val = torch.flip(val, [1])
    out = TrainResult(iterations=iterations)
    out.validation_before, _ = validation_nll(model, val)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(iterations, 1), lr * 0.05)
    k = setup.substeps_tf
    t0 = time.time()
    paths = None
    for it in range(iterations):
        if it % refresh == 0:
            paths = reversed_paths(setup, data, pool, gen, rng)
        rows = torch.as_tensor(rng.integers(0, pool, batch))[:, None]
        cols = torch.as_tensor(rng.integers(0, k, (batch, min(transitions, k))))
        y, v = paths[rows, cols], paths[rows, cols + 1]
        opt.zero_grad()
        a, b, j4 = model.board(True)
        loss = qs.transition_nll(y, v, a, b, j4, setup.d)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():  # projected gradient: the quartic DAC has no negative codes
            model.quartic.clamp_(min=0.0)
        out.losses.append(float(loss))
        if log and (it % max(1, iterations // 10) == 0 or it == iterations - 1):
            log(f"iteration {it}: NLL per transition {float(loss):.4f} ({time.time() - t0:.1f} s)")
    out.seconds = time.time() - t0
    out.validation_after, out.validation_stderr = validation_nll(model, val)
    return out


def board_codes(model: Model) -> dict:
    """The trained model as the board's codes (contract D field names)."""
    with torch.no_grad():
        a, b, j4 = model.board(False)
    a = a.numpy()
    return {
        "coupling_codes": qs.codes_int16(0.5 * (a + a.T), qs.A_LSB),
        "bias_codes": qs.codes_int16(b.numpy(), qs.B_LSB),
        "quartic_codes": qs.codes_uint16(j4.numpy(), qs.J4_LSB),
        "noise_code": int(qs.codes_uint16(model.setup.alpha * KT, qs.D_LSB)),
    }


def checkpoint(model: Model, data: Data, notes: str = "") -> dict:
    """Contract D's checkpoint ("kelvin.quartic-generator", version 1) as a JSON-ready dict."""
    s = model.setup
    codes = board_codes(model)
    scale = 1.0 / (data.x_on - data.x_off)
    return {
        "kind": "kelvin.quartic-generator", "version": 1, "cells": s.cells,
        "coupling_codes": codes["coupling_codes"].tolist(),
        "bias_codes": codes["bias_codes"].tolist(),
        "quartic_codes": codes["quartic_codes"].tolist(),
        "noise_code": codes["noise_code"],
        "visible": list(range(s.visible)), "image_rows": s.rows, "image_cols": s.cols,
        "uncoupled_samples": s.samples_tf, "coupled_samples": s.samples_tf,
        "pixel_scale": {"offset": -data.x_off * scale, "scale": scale},
        "notes": notes,
    }


def decode(ck: dict):
    """(A, b, J4, D) in board units from a checkpoint's codes."""
    a = np.asarray(ck["coupling_codes"], dtype=np.float64) * qs.A_LSB
    b = np.asarray(ck["bias_codes"], dtype=np.float64) * qs.B_LSB
    j4 = np.asarray(ck["quartic_codes"], dtype=np.float64) * qs.J4_LSB
    return a, b, j4, ck["noise_code"] * qs.D_LSB
