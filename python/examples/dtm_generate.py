"""Generation with a trained DTM: on the board (kelvin.denoise, every copy of the layout on the
lattice at once) and digitally (dtm_model.DigitalSampler in float64), and how to compare them.

Board: one kelvin.denoise chain holds `copies` independent images (the layout's copies tile the
lattice; lattice edges between copies get weight 0, so copies do not interact), x_T uniform
+-1 noise drawn by the runtime from noise_seed + chain. Digital: the same steps, sweeps and
beta schedule, x_T uniform from a numpy seed, with the trainer's float weights ("float") or with
the very codes the board ran ("codes": same law as the board up to the board's fixed-point
sigmoid, so it separates quantization from everything else).
"""

from __future__ import annotations

import math
import time

import numpy as np

import kelvin
from dtm_layout import Layout, LatticeMap
from dtm_model import DigitalSampler, digital_chain


def board_steps(layout: Layout, lmap: LatticeMap, models: list[dict], schedule_codes: list[int]):
    """kelvin.denoise steps, ordered T .. 1, from per-step models (index 0 = step 1) holding
    "weight_codes" (per model edge) and "bias_codes" (per model node)."""
    origins = layout.offsets()
    inputs = lmap.nodes(layout.inputs(), origins)
    outputs = lmap.nodes(layout.outputs(), origins)
    steps = []
    for m in reversed(models):
        w, b = lmap.program(m["weight_codes"], m["bias_codes"], origins)
        steps.append({"weights": w, "biases": b, "beta_schedule": schedule_codes,
                      "input_nodes": inputs, "output_nodes": outputs})
    return steps


def generate_on_board(board, layout: Layout, lmap: LatticeMap, models: list[dict],
                      schedule_codes: list[int], samples: int, sweeps: int, burn_in: int,
                      seed: int, timeout_s: float = 600.0):
    """(x_0 samples, N x D +-1 int8, at least `samples` rows; the DenoiseResult's summary)."""
    copies = len(layout.offsets())
    chains = math.ceil(samples / copies)
    steps = board_steps(layout, lmap, models, schedule_codes)
    r = kelvin.denoise(board, steps, sweeps=sweeps, burn_in_sweeps=burn_in, chains=chains,
                       reset_state=True, noise_seed=seed, timeout_s=timeout_s)
    x0 = r.states[:, -1, :].reshape(chains * copies, layout.pixels)
    return x0[:samples], r.summary


def generate_digitally(layout: Layout, models: list[dict], key: str, betas: np.ndarray,
                       samples: int, total_sweeps: int, seed: int) -> np.ndarray:
    """x_0 samples (samples x D, +-1) from the float ("weights"/"bias") or code
    ("weight_codes"/"bias_codes") parameters of every step."""
    samplers = []
    for m in reversed(models):
        w = m["weights"] if key == "float" else m["weight_codes"]
        b = m["bias"] if key == "float" else m["bias_codes"]
        samplers.append(DigitalSampler(layout.nodes, layout.edges, w, b, layout.colour,
                                       layout.inputs(), layout.outputs()))
    rng = np.random.default_rng(seed)
    x_T = rng.choice(np.array([-1.0, 1.0]), size=(samples, layout.pixels))
    return digital_chain(samplers, x_T, [betas] * len(samplers), total_sweeps, seed + 1)


def to01(x_pm: np.ndarray) -> np.ndarray:
    return (np.asarray(x_pm) > 0).astype(np.uint8)


def two_sample(a: np.ndarray, b: np.ndarray) -> dict:
    """Difference of the means of two iid samples with its standard error (Welch) and z."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    diff = float(a.mean() - b.mean())
    return {"a": float(a.mean()), "b": float(b.mean()), "difference": diff, "stderr": se,
            "z": diff / se if se > 0 else 0.0, "dof": int(min(a.size, b.size) - 1)}


def pixel_chi2(a01: np.ndarray, b01: np.ndarray) -> dict:
    """sum over pixels of (p_a - p_b)^2 / (var_a / n_a + var_b / n_b) (pixels where both are
    constant skipped), divided by the pixels counted: about 1 when the two laws agree (each term
    has mean 1; pixels are correlated, so its spread is wider than a chi^2's)."""
    a, b = np.asarray(a01, dtype=np.float64), np.asarray(b01, dtype=np.float64)
    pa, pb = a.mean(0), b.mean(0)
    var = pa * (1 - pa) / (a.shape[0] - 1) + pb * (1 - pb) / (b.shape[0] - 1)
    keep = var > 0
    chi2 = float(((pa - pb)[keep] ** 2 / var[keep]).sum())
    return {"chi2": chi2, "pixels": int(keep.sum()), "chi2_per_pixel": chi2 / max(1, keep.sum())}


def agreement(scorer, a01: np.ndarray, b01: np.ndarray) -> dict:
    """Board (a) vs digital (b): ink fraction per image and the classifier's top-class
    probability per image, each a two-sample comparison of iid per-image values; and the
    pixel-marginal chi^2 per pixel."""
    ink = two_sample(a01.mean(1), b01.mean(1))
    conf = two_sample(scorer.probabilities(a01).max(1), scorer.probabilities(b01).max(1))
    return {"ink_fraction": ink, "confidence": conf, "pixel_marginals": pixel_chi2(a01, b01),
            "within_3_stderr": bool(abs(ink["z"]) < 3 and abs(conf["z"]) < 3)}


def timed(f, *args, **kwargs):
    t = time.monotonic()
    out = f(*args, **kwargs)
    return out, time.monotonic() - t
