"""The DTM's forward (noising) process and a digital double-precision sampler of its steps.

Forward process (shared/reference.md 5b; DTM, arXiv 2510.23972): from x_{t-1} to x_t each
+-1 pixel is re-drawn uniformly with probability 1 - exp(-lambda dt_t), i.e. flipped with
probability (1 - a_t) / 2, a_t = exp(-lambda dt_t). Its log-probability is w_t x_t x_{t-1} + const
with w_t = -(1/2) ln tanh(lambda dt_t / 2) = atanh(a_t): a coupling between x_t[i] and
x_{t-1}[i]. The board realizes a coupling as beta * code (integer code, |code| <= 6), so this
module picks the forward process FROM the codes: w_t = beta * code_t exactly, a_t = tanh(w_t),
lambda dt_t = -ln a_t. The fixed edge of step t is then exactly the forward process's, with no
quantization error.

DigitalSampler runs the same chain as kelvin.denoise in float64 numpy: per step, the free nodes
start uniform (reset_state), the inputs are clamped to x_t, then burn-in + sweeps two-colour
block-Gibbs sweeps (colour 0, then colour 1, as the board), the beta of sweep k being
schedule[min(k, len - 1)], and the outputs after the last sweep are x_{t-1}.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp


class ForwardProcess:
    """T noising steps given by their board codes (index 0 is step 1, nearest the data)."""

    def __init__(self, codes: list[int], beta: float):
        if any(not 1 <= abs(c) <= 6 for c in codes):
            raise ValueError(f"forward codes must be in 1..6, got {codes}")
        self.codes = [int(c) for c in codes]
        self.beta = float(beta)
        self.coupling = [self.beta * c for c in self.codes]          # w_t
        self.a = [math.tanh(w) for w in self.coupling]                # exp(-lambda dt_t)
        self.lambda_dt = [-math.log(a) for a in self.a]
        self.flip = [(1.0 - a) / 2.0 for a in self.a]

    @property
    def steps(self) -> int:
        return len(self.codes)

    def residual_correlation(self) -> float:
        """<x_T x_0> per pixel: how far x_T is from uniform noise (0: exactly uniform)."""
        return float(np.prod(self.a))

    def noise(self, x: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        """x_t from x_{t-1} (+-1 int8 arrays), t in 1..T."""
        flips = rng.random(x.shape) < self.flip[t - 1]
        return np.where(flips, -x, x).astype(np.int8)

    def pairs(self, x0: np.ndarray, t: int, rng: np.random.Generator):
        """(x_{t-1}, x_t) for data x0 (+-1): the training pairs of step t."""
        x = x0.astype(np.int8)
        for s in range(1, t):
            x = self.noise(x, s, rng)
        return x, self.noise(x, t, rng)

    def describe(self) -> dict:
        return {"codes": self.codes, "coupling": self.coupling, "lambda_dt": self.lambda_dt,
                "flip_probability": self.flip,
                "x_T_residual_correlation": self.residual_correlation()}


def beta_schedule(beta: float, total_sweeps: int, start: float = 0.6, ramp: float = 0.5):
    """Per-sweep beta values: a linear ramp from start * beta to beta over the first
    ramp * total_sweeps sweeps, then beta (so the last sweeps sample the trained law), as board
    codes round(256 beta) and as the realized betas (code / 256)."""
    n = max(1, int(round(ramp * total_sweeps)))
    values = beta * (start + (1.0 - start) * np.arange(n) / max(1, n - 1))
    codes = np.round(256.0 * np.append(values, beta)).astype(np.int64)
    return [int(c) for c in codes], codes / 256.0


class DigitalSampler:
    """Block-Gibbs sampler of one step's model (nodes, edges, float weights and biases)."""

    def __init__(self, nodes: int, edges: np.ndarray, weights: np.ndarray, bias: np.ndarray,
                 colour: np.ndarray, inputs: np.ndarray, outputs: np.ndarray):
        w = np.asarray(weights, dtype=np.float64)
        i, j = edges[:, 0], edges[:, 1]
        self.J = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([i, j]),
                                                         np.concatenate([j, i]))),
                               shape=(nodes, nodes))
        self.bias = np.asarray(bias, dtype=np.float64)
        self.nodes = nodes
        self.inputs = np.asarray(inputs)
        self.outputs = np.asarray(outputs)
        clamped = np.zeros(nodes, dtype=bool)
        clamped[self.inputs] = True
        self.groups = [np.flatnonzero((colour == c) & ~clamped) for c in (0, 1)]
        self.cols = [self.J[:, g].T.tocsr() for g in self.groups]   # rows: nodes of the group

    def run(self, x_t: np.ndarray, betas: np.ndarray, total_sweeps: int,
            rng: np.random.Generator) -> np.ndarray:
        """x_{t-1} for every row of x_t (chains x pixels, +-1) after total_sweeps sweeps."""
        n = x_t.shape[0]
        s = rng.choice(np.array([-1.0, 1.0]), size=(n, self.nodes))
        s[:, self.inputs] = x_t
        for k in range(total_sweeps):
            beta = betas[min(k, len(betas) - 1)]
            for g, cols in zip(self.groups, self.cols):
                h = (cols @ s.T).T + self.bias[g]
                p = 1.0 / (1.0 + np.exp(-2.0 * beta * h))
                s[:, g] = np.where(rng.random((n, len(g))) < p, 1.0, -1.0)
        return s[:, self.outputs].astype(np.int8)


def digital_chain(samplers: list[DigitalSampler], x_T: np.ndarray, betas: list[np.ndarray],
                  total_sweeps: int, seed: int) -> np.ndarray:
    """The chain T .. 1 (samplers[0] is step T) from x_T; returns x_0 (chains x pixels)."""
    rng = np.random.default_rng(seed)
    x = x_T
    for sampler, b in zip(samplers, betas):
        x = sampler.run(x, b, total_sweeps, rng)
    return x
