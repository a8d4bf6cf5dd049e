"""Training one DTM step's EBM with the board in the loop (kelvin.BoltzmannTrainer).

Step t models P(x_{t-1} | x_t) on the layout of dtm_layout.py: outputs "visible" (clamped to
x_{t-1} in the positive phase, free in the negative one), inputs "input" (clamped to x_t in both
phases), latents "hidden". The input-output edges carry the forward process's coupling
(dtm_model.ForwardProcess: code_t exactly, not trainable); every other edge and the output and
latent biases are trained by the contrastive gradient measured on the board. Each minibatch is
fresh noise on fresh training images: x_0 drawn from the training set, x_{t-1} and x_t by the
forward process.
"""

from __future__ import annotations

import time

import numpy as np

import kelvin
from dtm_layout import Layout, LatticeMap
from dtm_model import ForwardProcess


def initial_parameters(layout: Layout, forward: ForwardProcess, t: int, data_pm: np.ndarray,
                       rng: np.random.Generator, weight_scale: float):
    """Float weights (J units) and biases: fixed edges = code_t; trainable edges small random
    (breaks the latents' symmetry); output biases from the pixel marginals of x_{t-1} given
    nothing (atanh(m) / beta, within the bias range); latent biases 0."""
    w = rng.normal(0.0, weight_scale, len(layout.edges))
    w[layout.fixed] = forward.codes[t - 1]
    x_prev, _ = forward.pairs(data_pm[:2000], t, rng)
    m = np.clip(x_prev.mean(0), -0.95, 0.95)
    bias = np.zeros(layout.nodes)
    # Half the marginal's field: the input edge supplies the rest once x_t is clamped.
    bias[layout.outputs()] = np.clip(0.5 * np.arctanh(m) / forward.beta, -100, 100)
    return w, bias


def train_step(board, layout: Layout, lmap: LatticeMap, forward: ForwardProcess, t: int,
               data_pm: np.ndarray, cfg: dict, seed: int) -> dict:
    """Trains step t; returns its float and code parameters and a history."""
    rng = np.random.default_rng(seed)
    weights, bias = initial_parameters(layout, forward, t, data_pm, rng, cfg["init_scale"])
    trainer = kelvin.BoltzmannTrainer(
        board, nodes=layout.nodes, roles=layout.roles, edges=layout.edges, weights=weights,
        bias=bias, placement=layout.placement((0, 0)),
        trainable_edges=layout.trainable.astype(np.int64),
        beta=forward.beta, beta_schedule=[], batch=cfg["batch"], free_copies=cfg["batch"],
        chains=cfg["chains"], burn_in_sweeps=cfg["burn_in"], sweeps=cfg["sweeps"],
        sample_every=cfg["sample_every"], learning_rate=cfg["learning_rate"],
        schedule="inverse-time", decay_steps=cfg["decay_steps"], momentum=cfg["momentum"],
        weight_decay=cfg["weight_decay"], rounding="stochastic", seed=seed, timeout_s=120)
    history = {"gradient_norm": [], "weights_clipped": [], "output_mean_gap": []}
    start = time.monotonic()
    energy = 0.0
    for k in range(cfg["train_steps"]):
        idx = rng.integers(0, data_pm.shape[0], cfg["batch"])
        x_prev, x_t = forward.pairs(data_pm[idx], t, rng)
        r = trainer.step(x_prev, inputs=x_t)
        s = r.summary
        history["gradient_norm"].append(float(s.gradient_norm))
        history["weights_clipped"].append(int(s.weights_clipped))
        out = layout.outputs()
        gap = np.abs(np.asarray(r.clamped_mean)[out] - np.asarray(r.free_mean)[out]).mean()
        history["output_mean_gap"].append(float(gap))
        energy += _energy_j(s)
    wall = time.monotonic() - start
    w_codes, b_codes = trainer.program()
    w_codes, b_codes = np.asarray(w_codes), np.asarray(b_codes)
    copy0 = layout.placement((0, 0))
    return {
        "t": t, "trainer": trainer,
        "weights": np.asarray(trainer.weights, dtype=np.float64),
        "bias": np.asarray(trainer.bias, dtype=np.float64),
        "weight_codes": w_codes[lmap.edge_indices((0, 0))].astype(np.int64),
        "bias_codes": b_codes[copy0].astype(np.int64),
        "history": history, "wall_s": wall, "energy_j": energy,
    }


def _energy_j(summary) -> float:
    """Total modelled energy of one trainer step from its ledger (summary.energy.total_j)."""
    return float(summary.energy.total_j)


def step_report(m: dict) -> dict:
    """The numbers of one trained step for results.json."""
    h = m["history"]
    tail = max(1, len(h["gradient_norm"]) // 5)
    w = m["weights"]
    return {
        "t": m["t"], "train_wall_s": m["wall_s"], "train_energy_j": m["energy_j"],
        "gradient_norm_first": float(np.mean(h["gradient_norm"][:tail])),
        "gradient_norm_last": float(np.mean(h["gradient_norm"][-tail:])),
        "output_mean_gap_first": float(np.mean(h["output_mean_gap"][:tail])),
        "output_mean_gap_last": float(np.mean(h["output_mean_gap"][-tail:])),
        "weight_abs_max": float(np.abs(w).max()), "weight_abs_mean": float(np.abs(w).mean()),
        "weight_codes_histogram": np.bincount(m["weight_codes"] + 6, minlength=13).tolist(),
        "weights_at_cap": int((np.abs(m["weight_codes"]) >= 6).sum()),
        "bias_abs_max": float(np.abs(m["bias"]).max()),
    }
