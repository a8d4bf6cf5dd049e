"""Generation from a trained quartic generator: digitally in float64 (the host's reference), with
a numpy/torch stand-in of the board job (used only when the kelvin module has no
generate_quartic), and on a board through kelvin.generate_quartic.

Generation (Whitelam): reset x = 0, run uncoupled (diagonal of A and J4 only, b = 0) for t_f,
switch on the full A and b and run t_f more. Heat per sample Q = V(x at switch-on) - V(x end),
reported in kT (divided by D: board units and model units give the same number).
"""

from __future__ import annotations

import time

import numpy as np
import torch

import quartic_step as qs


def strang_generate(a, b, j4, d, samples: int, substeps: int, seed: int, adc: bool = False):
    """(visible-and-hidden states at the end, heat in kT, wall seconds): S x n volts. adc=True
    reads switch-on and end states through the ADC (what a board reports)."""
    t0 = time.time()
    a, b, j4 = (np.asarray(v, dtype=np.float64) for v in (a, b, j4))
    n = a.shape[0]
    gen = torch.Generator().manual_seed(seed)
    uncoupled = qs.DiagonalStrang(np.diag(a).copy(), j4, d)
    x = torch.zeros(samples, n, dtype=torch.float64)
    zeros = torch.zeros(1, 1, n, dtype=torch.float64).expand(substeps, samples, n)
    with torch.no_grad():
        x_on = uncoupled.path(x, zeros, gen)[:, -1]
        x_end = qs.Strang(a, b, j4, d).run(x_on.clone(), substeps, gen)
    x_on, x_end = x_on.numpy(), x_end.numpy()
    if adc:
        x_on, x_end = qs.adc_read(x_on), qs.adc_read(x_end)
    heat = (qs.potential(x_on, a, b, j4) - qs.potential(x_end, a, b, j4)) / d
    return x_end, heat, time.time() - t0


def emulated_board(checkpoint: dict, samples: int, seed: int):
    """The board job's stand-in: the checkpoint's codes, the same substep, ADC read-out."""
    import quartic_training as qt
    a, b, j4, d = qt.decode(checkpoint)
    substeps = checkpoint["coupled_samples"] * qs.SUBSTEPS
    x, heat, secs = strang_generate(a, b, j4, d, samples, substeps, seed, adc=True)
    return x[:, checkpoint["visible"]], heat, secs


def on_board(kelvin, uri: str, checkpoint: dict, samples: int, calibration: str = "none"):
    """kelvin.generate_quartic on the board at uri: (images volts, heat_kt, wall s, summary)."""
    t0 = time.time()
    with kelvin.open(uri) as board:
        r = kelvin.generate_quartic(board, checkpoint, samples=samples,
                                    timeout_s=600.0, calibration=calibration)
    summary = _plain(r.summary.to_dict()) if hasattr(r.summary, "to_dict") else {}
    energy = summary.get("energy") or {}
    if isinstance(energy, dict) and energy.get("total_j") is not None:
        summary["energy_per_sample_j"] = energy["total_j"] / samples
        if energy.get("gpu_equivalent_j") is not None:
            summary["gpu_equivalent_per_sample_j"] = energy["gpu_equivalent_j"] / samples
    return np.asarray(r.images), np.asarray(r.heat_kt), time.time() - t0, summary


def _plain(value):
    """JSON-safe copy: non-finite floats become None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def has_board_job(kelvin) -> bool:
    return kelvin is not None and hasattr(kelvin, "generate_quartic")
