"""Public helpers on the curvature engine: per-sample Jacobians and curvature factors of a model
on a batch, outside any optimizer (kelvin.torch._curvature has the formulas)."""

from __future__ import annotations

from typing import List, Optional, Sequence

import torch
from torch import nn

from ._curvature import (CROSS_ENTROPY, EMPIRICAL_FISHER, GGN, CurvatureEngine, check_kinds,
                         jacobian_cotangents)


def _trainable(model: nn.Module, params) -> List[torch.Tensor]:
    if params is None:
        return [p for p in model.parameters() if p.requires_grad]
    return [p for p in params if p.requires_grad]


def per_sample_jacobians(model: nn.Module, *inputs: torch.Tensor,
                         params: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
    """Per-sample Jacobians of a model's outputs with respect to its parameters.

    Parameters
    ----------
    model : torch.nn.Module
        Returns one tensor of outputs, batch first; samples must not interact.
    *inputs : torch.Tensor
        The model's positional inputs, batch first.
    params : sequence of torch.Tensor, optional
        The parameters (columns, in this order, each flattened as ``p.reshape(-1)``). Default:
        the model's parameters that require grad.

    Returns
    -------
    torch.Tensor
        float64, shape (B, C, N): entry [i, c, j] = d z_ic / d theta_j.
    """
    params = _trainable(model, params)
    engine = CurvatureEngine(model)
    try:
        with torch.no_grad():
            z = model(*inputs)
        b, c = z.shape[0], z[0].numel()
        u = engine.rows(tuple(inputs), b, b, c, jacobian_cotangents, params)
    finally:
        engine.remove_hooks()
    return u.reshape(b, c, -1)


def curvature_factor(model: nn.Module, *inputs: torch.Tensor, curvature: str = GGN,
                     loss: str = CROSS_ENTROPY, targets: Optional[torch.Tensor] = None,
                     samples: Optional[int] = None,
                     params: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
    """The factor U of a model's curvature on a batch, F = U^T U, as TNGD and NGD use it.

    Parameters
    ----------
    model : torch.nn.Module
        Returns logits (loss="cross_entropy") or predictions (loss="mse"), batch first.
    *inputs : torch.Tensor
        The model's positional inputs, batch first.
    curvature : {"ggn", "empirical_fisher"}
        "ggn": (1/B) sum_i J_i^T H_i J_i (C rows per sample); "empirical_fisher":
        (1/B) sum_i g_i g_i^T (one row per sample; needs `targets`).
    loss : {"cross_entropy", "mse"}
        torch.nn.functional.cross_entropy(z, targets) or mse_loss(z, targets), mean reduction.
    targets : torch.Tensor, optional
        Class indices (cross-entropy) or target values (mse); only the empirical Fisher uses them.
    samples : int, optional
        Use the first `samples` samples (B above). Default: all.
    params : sequence of torch.Tensor, optional
        Columns, as in `per_sample_jacobians`.

    Returns
    -------
    torch.Tensor
        U, float64, shape (m, N).
    """
    check_kinds(curvature, loss)
    params = _trainable(model, params)
    engine = CurvatureEngine(model)
    try:
        with engine.capture() as cap:
            with torch.enable_grad():
                z = model(*inputs)
                if curvature == EMPIRICAL_FISHER:
                    if targets is None:
                        raise ValueError("curvature='empirical_fisher' needs targets")
                    f = (nn.functional.cross_entropy if loss == CROSS_ENTROPY
                         else nn.functional.mse_loss)
                    # the output gradient of the mean loss, without touching .grad
                    cap.output_grad = torch.autograd.grad(f(z, targets), [z])[0].detach()
        u, _ = engine.factor(curvature, loss, samples or z.shape[0], params)
    finally:
        engine.remove_hooks()
    return u
