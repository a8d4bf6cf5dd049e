"""The quartic resonator board's sample step, written twice: differentiably in torch (for training)
and as a batched numpy/torch integrator (for noising and digital generation).

The board (docs/boards.md "Dynamics", sim-backend/.../quartic_stepper.hpp) integrates
    dx = -(A x - b + 4 J4 x^3) dt + sqrt(2 D) dW          (x in V, t in us)
with one sample period h = 1 us split into 16 substeps tau = 62.5 ns, each a Strang splitting:
  1. half cubic flow, exact per cell:  x <- x / sqrt(1 + c x^2),  c = 4 J4 tau (= 2 k tau/2, k = 4 J4)
  2. exact OU step over tau:           x <- Phi x + Gamma b + sqrt(2D) L xi,  L L^T = Q_unit
  3. half cubic flow again,  4. clamp to the rails (+-2.5 V).
Phi = expm(-A tau), Gamma = int_0^tau expm(-A s) ds, Q_unit = int_0^tau expm(-A s) expm(-A^T s) ds.

For a symmetric A all three are functions of A, so Q_unit = Gamma(2A) = (I + Phi) Gamma / 2
exactly (eigenvalue by eigenvalue: (1 - e^{-2 l tau}) / 2l = (1 + e^{-l tau})(1 - e^{-l tau}) / 2l).
Gamma = tau phi1(-A tau) is summed as a Horner series (scaled and squared when ||A tau|| is
large), truncated where the remainder bound is below float64 round-off, and Phi = I - A Gamma. This equals Van Loan's block exponential (checked
against torch.linalg.matrix_exp to 1e-15 in the tests) and autograd through it is exact; it
replaces matrix_exp because torch's matrix_exp backward on the 2n = 512 Van Loan block takes ~9 s.

Codes (resonator_registers.hpp): A int16 lsb 2^-14 1/us, b int16 lsb 2^-13 V/us, J4 uint16 lsb
2^-12 1/(V^2 us), D uint16 lsb 2^-16 V^2/us, ADC int16 lsb 2^-14 V (+-2 V).
"""

from __future__ import annotations

import math

import numpy as np
import torch

SUBSTEPS = 16
PERIOD_US = 1.0
TAU = PERIOD_US / SUBSTEPS
RAIL = 2.5
A_LSB, B_LSB, J4_LSB, D_LSB, ADC_LSB = 2.0**-14, 2.0**-13, 2.0**-12, 2.0**-16, 2.0**-14
INT16_MAX, UINT16_MAX = 32767, 65535
ADC_MIN, ADC_MAX = -32768, 32767


def codes_int16(x: np.ndarray, lsb: float) -> np.ndarray:
    """Nearest DAC codes (half away from zero, as llround), clamped to [-32767, 32767]."""
    q = np.sign(x) * np.floor(np.abs(np.asarray(x, dtype=np.float64)) / lsb + 0.5)
    return np.clip(q, -INT16_MAX, INT16_MAX).astype(np.int64)


def codes_uint16(x: np.ndarray, lsb: float) -> np.ndarray:
    q = np.floor(np.asarray(x, dtype=np.float64) / lsb + 0.5)
    return np.clip(q, 0, UINT16_MAX).astype(np.int64)


def adc_read(x: np.ndarray) -> np.ndarray:
    """What the ADC reports, in volts: llround(x / lsb) saturated to int16."""
    q = np.sign(x) * np.floor(np.abs(x) / ADC_LSB + 0.5)
    return np.clip(q, ADC_MIN, ADC_MAX) * ADC_LSB


def quantize_ste(x: torch.Tensor, lsb: float, lo: float, hi: float) -> torch.Tensor:
    """Forward: the value of the nearest code in [lo, hi]; backward: identity (straight-through)."""
    q = torch.clamp(torch.round(x / lsb), lo, hi) * lsb
    return x + (q - x).detach()


def ou_matrices(a: torch.Tensor, tau: float = TAU):
    """(Phi, Gamma, Q_unit) of the exact OU substep for a symmetric drift -A (differentiable).
    Scaling and squaring: the series is summed for tau / 2^s with ||A tau / 2^s||_1 < 0.5, then
    doubled s times with Phi(2t) = Phi(t)^2, Gamma(2t) = (I + Phi(t)) Gamma(t) (exact)."""
    n = a.shape[0]
    eye = torch.eye(n, dtype=a.dtype)
    norm = float(torch.linalg.matrix_norm(a.detach(), ord=1)) * tau
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm >= 0.5 else 0
    t = tau / 2**squarings
    z = -a * t
    norm = norm / 2**squarings
    # remainder of sum_k z^k/(k+1)! after degree m is <= norm^(m+1) / (m+2)! / (1 - norm)
    m = 1
    while norm ** (m + 1) / math.factorial(m + 2) / (1.0 - norm) > 1e-17:
        m += 1
    g = eye
    for k in range(m, 0, -1):
        g = eye + (z @ g) / (k + 1)
    gamma = t * g
    phi = eye - a @ gamma
    for _ in range(squarings):
        gamma = gamma + phi @ gamma
        phi = phi @ phi
    q = 0.5 * (eye + phi) @ gamma
    return phi, gamma, 0.5 * (q + q.T)


def ou_matrices_van_loan(a: torch.Tensor, tau: float = TAU):
    """The same from Van Loan's block exponentials (torch.linalg.matrix_exp); reference."""
    n = a.shape[0]
    eye, zero = torch.eye(n, dtype=a.dtype), torch.zeros(n, n, dtype=a.dtype)
    e1 = torch.linalg.matrix_exp(torch.cat([torch.cat([-a, eye], 1), torch.cat([zero, zero], 1)])
                                 * tau)
    phi, gamma = e1[:n, :n], e1[:n, n:]
    e2 = torch.linalg.matrix_exp(torch.cat([torch.cat([-(-a), eye], 1),
                                            torch.cat([zero, -a.T], 1)]) * tau)
    q = e2[n:, n:].T @ e2[:n, n:]
    return phi, gamma, 0.5 * (q + q.T)


def half_cubic(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return x / torch.sqrt(1.0 + c * x * x)


def path_nll(y: torch.Tensor, a, b, j4, d: float) -> torch.Tensor:
    """Mean NLL per transition of whole paths y (B x (K+1) x n, one state per substep)."""
    return transition_nll(y[:, :-1], y[:, 1:], a, b, j4, d)


def transition_nll(y: torch.Tensor, v: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                   j4: torch.Tensor, d: float) -> torch.Tensor:
    """Mean negative log-likelihood per transition y -> v (both ... x n, volts) under the board's
    Strang substep: v = C(Phi C(y) + Gamma b + e), e ~ N(0, 2D Q).
    C (the half cubic flow) is a bijection: z = C^-1(y') = y' / sqrt(1 - c y'^2) with
    |dz/dy'| = (1 - c y'^2)^(-3/2). The rails' clamp is not modelled (paths stay far inside)."""
    c = 4.0 * j4 * TAU
    phi, gamma, q = ou_matrices(a)
    u = half_cubic(y, c)
    w = 1.0 - c * v * v
    z = v / torch.sqrt(w)
    e = z - u @ phi.T - gamma @ b
    chol = torch.linalg.cholesky(2.0 * d * q)
    r = torch.linalg.solve_triangular(chol, e.reshape(-1, e.shape[-1]).T, upper=False)
    n = y.shape[-1]
    transitions = e.numel() // n
    quad = 0.5 * (r * r).sum() / transitions
    logdet = torch.log(torch.diagonal(chol)).sum() + 0.5 * n * math.log(2 * math.pi)
    logjac = 1.5 * torch.log(w).sum() / transitions
    return quad + logdet + logjac


class Strang:
    """Batched float64 integrator of the board's substep for fixed (A, b, J4, D): states S x n."""

    def __init__(self, a: np.ndarray, b: np.ndarray, j4: np.ndarray, d: float):
        at = torch.as_tensor(np.asarray(a, dtype=np.float64))
        with torch.no_grad():
            phi, gamma, q = ou_matrices(at)
            self.phi_t = phi.T.contiguous()
            self.offset = gamma @ torch.as_tensor(np.asarray(b, dtype=np.float64))
            self.noise_t = (torch.linalg.cholesky(q) * math.sqrt(2.0 * d)).T.contiguous()
        self.c = torch.as_tensor(4.0 * np.asarray(j4, dtype=np.float64) * TAU)
        self.d = d

    def substep(self, x: torch.Tensor, gen: torch.Generator, bias=None) -> torch.Tensor:
        x = half_cubic(x, self.c)
        x = x @ self.phi_t + (self.offset if bias is None else bias)
        if self.d > 0:
            x = x + torch.randn(x.shape, generator=gen, dtype=x.dtype) @ self.noise_t
        x = half_cubic(x, self.c)
        return torch.clamp(x, -RAIL, RAIL)

    def run(self, x: torch.Tensor, substeps: int, gen: torch.Generator) -> torch.Tensor:
        for _ in range(substeps):
            x = self.substep(x, gen)
        return x


class DiagonalStrang:
    """The same substep for uncoupled cells (diagonal A) with a per-substep bias, elementwise:
    the noising process and the uncoupled phase of generation. Returns every substep's state."""

    def __init__(self, a_diag: np.ndarray, j4: np.ndarray, d: float):
        a = torch.as_tensor(np.asarray(a_diag, dtype=np.float64))
        self.phi = torch.exp(-a * TAU)
        self.gamma = torch.where(a > 0, -torch.expm1(-a * TAU) / torch.clamp(a, min=1e-300),
                                 torch.full_like(a, TAU))
        q = 0.5 * (1.0 + self.phi) * self.gamma
        self.sd = torch.sqrt(2.0 * d * q)
        self.c = torch.as_tensor(4.0 * np.asarray(j4, dtype=np.float64) * TAU)

    def path(self, x: torch.Tensor, biases: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """x: S x n start; biases: K x S x n (b during substep k). Returns S x (K+1) x n."""
        out = [x]
        for k in range(biases.shape[0]):
            x = half_cubic(x, self.c)
            x = self.phi * x + self.gamma * biases[k]
            x = x + self.sd * torch.randn(x.shape, generator=gen, dtype=x.dtype)
            x = torch.clamp(half_cubic(x, self.c), -RAIL, RAIL)
            out.append(x)
        return torch.stack(out, 1)


def potential(x: np.ndarray, a: np.ndarray, b: np.ndarray, j4: np.ndarray) -> np.ndarray:
    """V(x) = 1/2 x^T A x - b^T x + sum J4 x^4 per row of x (board units, V^2/us)."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * np.einsum("si,ij,sj->s", x, a, x) - x @ b + (x**4) @ j4
