"""NGD and TNGD as torch.optim optimizers. Both share the step (closure, gradient, curvature factor,
update, report); they differ only in how the direction d ~ (F + lambda I)^-1 g is obtained."""

from __future__ import annotations

import math
import time
from typing import Dict, List, Optional

import torch
from torch import nn
from torch.optim.optimizer import Optimizer, required

from ._curvature import EMPIRICAL_FISHER, GGN, CurvatureEngine, check_kinds
from ._distributed import Distributed

# kelvin's energy ledger charges host work at 100 pJ per FLOP (docs/energy.md, "host").
HOST_JOULES_PER_FLOP = 100e-12
# Adam with beta1 = beta2 = 0 (TNGD-Adam): u = d / (|d| + ADAM_EPSILON), as tngd_update() in C++.
ADAM_EPSILON = 1e-8
STATE_KEY = "kelvin"   # the optimizer-wide state (step, warm start); not a parameter's state

_TOTAL_KEYS = ("host_time_s", "closure_time_s", "host_flops", "host_energy_j", "device_time_s",
               "energy_j", "board_wall_time_s", "communication_time_s", "communication_bytes")


def damped_solve(u: torch.Tensor, g: torch.Tensor, damping: float):
    """(U^T U + damping I)^-1 g in float64 by the Woodbury identity through the thin QR of U^T.

    With U^T = Q R (Q: N x k orthonormal, k = min(m, N)), F = U^T U = Q (R R^T) Q^T, so
        d = Q (R R^T + lambda I)^-1 Q^T g + (g - Q Q^T g) / lambda,
    the k x k system by Cholesky and the complement of range(Q), where F = 0, exactly. This is the
    large-t end of the board's row-space path. Returns (d, flops).
    """
    m, n = u.shape
    q, r = torch.linalg.qr(u.T, mode="reduced")
    k = q.shape[1]
    s = r @ r.T + damping * torch.eye(k, dtype=u.dtype)
    chol, info = torch.linalg.cholesky_ex(s)
    if int(info) != 0:
        raise ValueError(f"the damped curvature is not positive definite (damping={damping}): "
                         "raise damping above 0")
    qg = q.T @ g
    d = q @ torch.cholesky_solve(qg[:, None], chol)[:, 0]
    # Householder QR of the N x m matrix U^T with Q formed: about 4 N m k - 4 k^3 / 3 (twice
    # 2 m^2 (N - m / 3) for k = m); R R^T: 2 k^2 m; Cholesky: k^3 / 3; two triangular solves:
    # 2 k^2; Q^T g and Q y: 4 N k.
    flops = (4.0 * n * m * k - 4.0 * k ** 3 / 3 + 2.0 * k * k * m + k ** 3 / 3 + 2.0 * k * k
             + 4.0 * n * k)
    if k < n:
        if damping <= 0:
            raise ValueError(f"damping must be above 0: the curvature has rank at most {k} "
                             f"< {n} parameters, so F + damping I is singular at damping={damping}")
        d += (g - q @ qg) / damping
        flops += 2.0 * n * k + 3.0 * n
    return d, flops


def _not_a_model(name: str, example: str, model) -> TypeError:
    return TypeError(
        f"{name} needs the model itself, not {type(model).__name__}: its curvature comes from "
        f"per-sample Jacobians, taken with hooks on the model's modules (as K-FAC optimizers "
        f"do). Write {example}; for parameter groups, also param_groups=[{{'params': ..., "
        f"'lr': ...}}, ...] with parameters of that model.")


class _CurvatureOptimizer(Optimizer):
    """The shared step of NGD and TNGD (subclasses set _name, _example, _global_keys and
    implement _direction)."""

    _name = ""
    _example = ""
    _global_keys: tuple = ()

    def __init__(self, model, param_groups, defaults, process_group=None):
        if not isinstance(model, nn.Module):
            raise _not_a_model(self._name, self._example, model)
        ddp = model
        if isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module   # hooks and curvature reruns on the module, outside DDP's sync
        params = (param_groups if param_groups is not None
                  else [p for p in model.parameters() if p.requires_grad])
        super().__init__(params, defaults)
        own = {id(p) for p in model.parameters()}
        for group in self.param_groups:
            for p in group["params"]:
                if id(p) not in own:
                    raise ValueError(f"{self._name}: a parameter of shape {tuple(p.shape)} is not "
                                     "a parameter of the model; the curvature can only be taken "
                                     "for the model's own parameters")
        self._options()   # validate now, not at the first step (and before any hook)
        self.model = model
        # torch.distributed: the curvature of the global batch (kelvin.torch._distributed)
        self._dist = Distributed.resolve(process_group, ddp, self._name)
        self.world_size = self._dist.world if self._dist is not None else 1
        self.rank = self._dist.rank if self._dist is not None else 0
        self._engine = CurvatureEngine(model)
        self.last_step: Optional[Dict] = None
        self.totals: Dict = {"steps": 0, **{k: 0.0 for k in _TOTAL_KEYS}}

    # -- options -------------------------------------------------------------------------------
    def _options(self) -> Dict:
        """The global options (those in _global_keys), equal in every group, validated."""
        first = self.param_groups[0]
        for group in self.param_groups:
            for key in self._global_keys:
                if group.get(key, first.get(key)) != first.get(key):
                    raise ValueError(f"{self._name}: {key} is one value for the whole model "
                                     f"(the curvature couples all parameters), but the parameter "
                                     f"groups give {first.get(key)!r} and {group.get(key)!r}")
            lr = group["lr"]
            if not isinstance(lr, (int, float)) or not lr >= 0 or math.isinf(lr):
                raise ValueError(f"{self._name}: lr must be a finite number >= 0, not {lr!r}")
        o = {key: first[key] for key in self._global_keys}
        check_kinds(o["curvature"], o["loss"])
        if not isinstance(o["damping"], (int, float)) or not o["damping"] >= 0:
            raise ValueError(f"{self._name}: damping must be a number >= 0, not {o['damping']!r}")
        cb = o["curvature_batch"]
        if cb is not None and (isinstance(cb, bool) or not isinstance(cb, int) or cb < 1):
            raise ValueError(f"{self._name}: curvature_batch must be None or an integer >= 1, "
                             f"not {cb!r}")
        self._check_options(o)
        return o

    def _check_options(self, o: Dict) -> None:
        pass

    def _curvature_samples(self, o: Dict, batch: int, outputs: int, n: int) -> int:
        cb = o["curvature_batch"]
        return batch if cb is None else min(cb, batch)

    # -- step ----------------------------------------------------------------------------------
    def _trainable(self) -> List[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"] if p.requires_grad]

    def step(self, closure=None):
        """One step: run the closure, take the curvature, get the direction, update.

        Parameters
        ----------
        closure : callable
            Zeroes the gradients, runs the model once on the batch (positional, batch-first
            inputs), computes the mean loss over the batch, calls loss.backward() and returns the
            loss. Required: the curvature needs the batch the model saw.

        Returns
        -------
        The closure's loss.
        """
        if closure is None:
            raise ValueError(f"{self._name}.step needs a closure that zeroes the gradients, runs "
                             "the model on the batch, computes the mean loss, calls "
                             "loss.backward() and returns the loss")
        o = self._options()
        t0 = time.perf_counter()
        if self._dist is None:
            return self._step(o, closure, t0)
        self._dist.begin_step()
        try:
            return self._step(o, closure, t0)
        except Exception as error:
            if not self._dist.exchanged:   # the others wait in the curvature exchange
                self._dist.fail(error)
            raise

    def _step(self, o, closure, t0):
        engine = self._engine
        with engine.capture(output_grad=o["curvature"] == EMPIRICAL_FISHER):
            with torch.enable_grad():
                loss = closure()
        closure_time = time.perf_counter() - t0
        if loss is None:
            raise ValueError(f"{self._name}: the closure returned None; it must return the loss")
        loss_value = float(loss)
        if not math.isfinite(loss_value):
            raise ValueError(f"{self._name}: the closure's loss is {loss_value}; a step needs a "
                             "finite loss (lower lr or check the data)")
        cap = engine.captured
        if cap.output is None:
            raise ValueError(f"{self._name}: the closure did not run the model (the curvature "
                             "needs the model's inputs and outputs of the batch)")
        params = self._trainable()
        g = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                       for p in params]).to(torch.float64)
        if not torch.isfinite(g).all():
            raise ValueError(f"{self._name}: the gradient has non-finite entries "
                             f"({int((~torch.isfinite(g)).sum())} of {g.numel()})")
        n = g.numel()
        samples = self._curvature_samples(o, cap.batch, cap.outputs, n)
        u, info = engine.factor(o["curvature"], o["loss"], samples, params)
        engine.captured = type(cap)()   # the batch's tensors are no longer needed
        if not torch.isfinite(u).all():
            raise ValueError(f"{self._name}: the curvature factor has non-finite entries")
        comm: Dict = {}
        if self._dist is not None:
            flat = torch.cat([p.detach().reshape(-1) for p in params])
            u, info.samples = self._dist.combine(u, info.samples, g, flat)
            info.rows = int(u.shape[0])
        report: Dict = {}
        d = self._direction(g, u, o, report)
        if self._dist is not None:
            comm = dict(self._dist.last)
        if not torch.isfinite(d).all():
            raise ValueError(f"{self._name}: the direction has non-finite entries; the "
                             "parameters were not changed")
        if o["adam"]:
            d = d / (d.abs() + ADAM_EPSILON)
        with torch.no_grad():
            offset = 0
            for group in self.param_groups:
                for p in group["params"]:
                    if not p.requires_grad:
                        continue
                    size = p.numel()
                    p.add_(d[offset:offset + size].view_as(p).to(p.dtype), alpha=-group["lr"])
                    offset += size
        state = self.state[STATE_KEY]
        state["step"] = state.get("step", 0) + 1
        wall = time.perf_counter() - t0
        # Host FLOPs of the step: the closure's forward (2 per model parameter and sample) and
        # backward (4: input and weight gradients), the curvature factor (_curvature.py counts
        # its rerun, per-row products and check), the solve (NGD) and the update: 3 N for Adam,
        # 2 N for the axpy.
        flops = (6.0 * engine.model_parameters * cap.batch + info.flops + report.pop("flops", 0.0)
                 + (3.0 * n if o["adam"] else 0.0) + 2.0 * n)
        board_wall = report.get("board_wall_time_s", 0.0)
        step = {
            "step": state["step"],
            "loss": loss_value,
            "parameters": n,
            "curvature_rows": info.rows,
            "curvature_samples": info.samples,
            "curvature_method": info.method,
            "host_time_s": wall - board_wall,
            "closure_time_s": closure_time,
            "host_flops": flops,
            "host_energy_j": flops * HOST_JOULES_PER_FLOP,
            "device_time_s": 0.0,
            "energy_j": 0.0,
            "board_wall_time_s": 0.0,
            "method": "",
            "world_size": self.world_size,
            "rank": self.rank,
            "communication_time_s": 0.0,
            "communication_bytes": 0,
            **comm,
            **report,
            "warnings": info.notes + report.get("warnings", []),
        }
        self.last_step = step
        self.totals["steps"] += 1
        for key in _TOTAL_KEYS:
            self.totals[key] += step[key]
        return loss

    def _direction(self, g: torch.Tensor, u: torch.Tensor, o: Dict, report: Dict) -> torch.Tensor:
        raise NotImplementedError

    def close(self) -> None:
        """Remove the hooks from the model (and, for TNGD, close a board it opened)."""
        self._engine.remove_hooks()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class NGD(_CurvatureOptimizer):
    """Exact damped natural gradient descent, digital (float64), with the curvature of TNGD.

    Each step: theta <- theta - lr * u with d = (F + damping I)^-1 g, u = d (adam=False) or
    u_i = d_i / (|d_i| + 1e-8) (adam=True), g the mean loss's gradient and F = U^T U the
    curvature of the first `curvature_batch` samples (kelvin.torch._curvature). d comes from the
    Woodbury identity through the thin QR of U^T (`damped_solve`), the large-t end of TNGD's
    row-space path: O(N m^2) for N parameters and m curvature rows; F is never formed.

    Parameters
    ----------
    model : torch.nn.Module
        The model (not its parameters: the curvature needs per-sample Jacobians, taken with hooks
        on its modules). Parameters of nn.Linear layers take a fast path; any other parameter
        makes the curvature take one autograd pass per sample and row (warned once).
    lr : float
        Learning rate (required), per parameter group; schedulers may change group["lr"].
    damping : float, default 1e-3
        lambda in (F + lambda I)^-1 g; above 0 when F's rank (at most m) is below N.
    curvature : {"ggn", "empirical_fisher"}, default "ggn"
        "ggn": (1/B_c) sum_i J_i^T H_i J_i over the curvature samples, J_i the Jacobian of the
        model's outputs and H_i the loss's Hessian in them (C rows per sample).
        "empirical_fisher": (1/B_c) sum_i g_i g_i^T, g_i sample i's loss gradient (1 row each).
    curvature_batch : int, optional
        B_c, the samples (the first of the batch) the curvature uses. Default: the whole batch.
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
        What the closure's loss is: torch.nn.functional.cross_entropy(logits, classes) (H =
        diag(p) - p p^T, p the softmax), or mse_loss(outputs, targets) with its default mean over
        all B x C entries (per-sample loss (1/C) ||z - y||^2, H = (2/C) I). Mean reduction over
        the batch in both: the gradient g is of the batch's mean loss.
    adam : bool, default False
        TNGD-Adam's update (Adam with beta1 = beta2 = 0) on the direction.
    param_groups : list of dict, optional
        Standard torch parameter groups (of the model's parameters); only lr may differ between
        groups. Default: every parameter of the model that requires grad.
    process_group : torch.distributed process group, optional
        Under DistributedDataParallel (a DDP model's group, or the default group, when
        torch.distributed is initialized): the ranks gather their curvature rows so that every
        rank solves with the global batch's curvature (kelvin.torch._distributed; as TNGD).

    Attributes
    ----------
    last_step : dict
        The last step's report: step, loss, parameters (N), curvature_rows (m),
        curvature_samples, curvature_method, host_time_s (wall time of the whole step: closure,
        curvature, solve, update), closure_time_s, host_flops, host_energy_j (100 pJ per FLOP, as
        kelvin's ledger), device_time_s, energy_j and board_wall_time_s (0: no board), method,
        warnings; world_size, rank, communication_time_s (part of host_time_s) and
        communication_bytes (0 without torch.distributed).
    totals : dict
        Sums of the numeric reports since construction, and steps.
    """

    _name = "NGD"
    _example = "NGD(model, lr=...)"
    _global_keys = ("damping", "curvature", "curvature_batch", "loss", "adam")

    def __init__(self, model, *, lr=required, damping=1e-3, curvature=GGN, curvature_batch=None,
                 loss="cross_entropy", adam=False, param_groups=None, process_group=None):
        defaults = dict(lr=lr, damping=damping, curvature=curvature,
                        curvature_batch=curvature_batch, loss=loss, adam=adam)
        super().__init__(model, param_groups, defaults, process_group)

    def _direction(self, g, u, o, report):
        d, flops = damped_solve(u, g, float(o["damping"]))
        report["flops"] = flops
        report["method"] = "digital (Woodbury, thin QR of U^T)"
        return d
