"""Per-sample curvature factors of a PyTorch model: the one place TNGD and NGD get them from.

Everything here produces a factor U (m x N, float64) of the curvature, F = U^T U, from rows that
are each the vector-Jacobian product of one sample's model output with a cotangent v:

    row = v^T d z_i / d theta        (z_i: the model's output for sample i, C entries)

* GGN (Gauss-Newton): F = (1/B_c) sum_i J_i^T H_i J_i with J_i = dz_i/dtheta (C x N) and H_i the
  loss's Hessian in the outputs. With H_i = L_i L_i^T the rows of sample i are the columns of
  L_i as cotangents: U_i = L_i^T J_i / sqrt(B_c), C rows per sample.
    - cross-entropy on logits z: H = diag(p) - p p^T (p = softmax z), L = diag(sqrt p) - p sqrt(p)^T
      (L L^T = diag p - 2 p p^T + p (sqrt p . sqrt p) p^T = diag p - p p^T since sum p = 1), so
      column k of L is sqrt(p_k) (e_k - p);
    - mean squared error as torch.nn.functional.mse_loss(z, y) computes it (mean over all B x C
      entries): the per-sample loss is (1/C) ||z_i - y_i||^2, H = (2/C) I, L = sqrt(2/C) I.
* Empirical Fisher: F = (1/B_c) sum_i g_i g_i^T with g_i the gradient of sample i's loss; its row
  has the cotangent dl_i/dz_i = B dL/dz_i (L the closure's mean loss, whose output gradient the
  capture records), one row per sample.
* Jacobians (for tests and users): cotangents e_k, C rows per sample.

How the rows are computed. Fast path (every parameter is the weight or bias of an nn.Linear, and
nn.Linear layers see the batch on dimension 0): the samples are repeated once per row (sample i
k times in a row), the model runs once on those R rows, and one backward pass with cotangent row
r on output row r gives every Linear layer's output gradient d_r; with its saved input a_r the
row's gradient is d_r a_r^T (weight) and d_r (bias), summed over any middle dimensions and over
repeated calls of a shared layer. Output gradients come from tensor hooks on the Linear outputs,
registered by forward hooks: module full backward hooks would be simpler but fail when an in-place
op (ReLU(inplace=True)) follows the layer. The same backward returns autograd's total over the
rows, and the rows must add up to it: if they do not (a Linear weight also used outside nn.Linear,
layers that mix samples), the engine warns once and switches to the slow path for good. Slow path
(any other parameter): per sample, a forward pass on that sample alone and one autograd.grad per
row: correct for any per-sample model, and slow.

The empirical Fisher's rows could be read off the closure's own backward (B d_i a_i^T); they are
rerun instead, one extra forward and backward on the B_c curvature samples, so that they pass the
same check and hold only the loss's data term (a regularizer the closure adds to the loss does not
leak into per-sample gradients).

The rerun calls the model with the positional, batch-first inputs the closure gave it (forward
hooks do not see keyword arguments in torch 1.13), in the model's current mode (dropout draws new
masks: the curvature is then stochastic), and assumes samples are independent (no BatchNorm in
training mode).
"""

from __future__ import annotations

import contextlib
import math
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

GGN = "ggn"
EMPIRICAL_FISHER = "empirical_fisher"
CURVATURES = (GGN, EMPIRICAL_FISHER)
CROSS_ENTROPY = "cross_entropy"
MSE = "mse"
LOSSES = (CROSS_ENTROPY, MSE)

# A cotangent function gets the rerun's output rows (R x C, float64, detached), the sample each
# row belongs to (R) and the row's index within its sample (R), and returns the cotangents (R x C).
Cotangents = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def check_kinds(curvature: str, loss: str) -> None:
    """Raise ValueError unless `curvature` and `loss` are known kinds."""
    if curvature not in CURVATURES:
        raise ValueError(f"curvature={curvature!r} is not one of "
                         f"{', '.join(map(repr, CURVATURES))}")
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not one of {', '.join(map(repr, LOSSES))}")


def jacobian_cotangents(z: torch.Tensor, sample: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Row (i, k) gets e_k: the rows are the per-sample Jacobian's rows."""
    return nn.functional.one_hot(k, z.shape[1]).to(z.dtype)


def ggn_cotangents(loss: str) -> Cotangents:
    """Cotangents of the GGN factor: column k of L_i with H_i = L_i L_i^T (module docstring)."""
    if loss == CROSS_ENTROPY:
        def cross_entropy(z, sample, k):
            p = torch.softmax(z, dim=1)
            e = nn.functional.one_hot(k, z.shape[1]).to(z.dtype)
            pk = p.gather(1, k[:, None])
            return pk.sqrt() * (e - p)
        return cross_entropy

    def mse(z, sample, k):
        return math.sqrt(2.0 / z.shape[1]) * nn.functional.one_hot(k, z.shape[1]).to(z.dtype)
    return mse


@dataclass
class Captured:
    """What the model-level forward hook saw during the closure (its last call)."""
    args: Tuple = ()
    output: Optional[torch.Tensor] = None
    output_grad: Optional[torch.Tensor] = None
    calls: int = 0

    @property
    def batch(self) -> int:
        return int(self.output.shape[0])

    @property
    def outputs(self) -> int:
        return int(self.output[0].numel())


@dataclass
class FactorInfo:
    """Bookkeeping of one factor: how it was computed and what it cost."""
    rows: int = 0
    samples: int = 0
    rows_per_sample: int = 0
    method: str = ""
    flops: float = 0.0
    notes: List[str] = field(default_factory=list)


def _batch_rows(args: Tuple, batch: int, samples: int, repeats: int) -> Tuple:
    """The model's positional arguments for the first `samples` samples, each repeated `repeats`
    times in a row; arguments without the batch on dimension 0 pass unchanged."""
    out = []
    for a in args:
        if isinstance(a, torch.Tensor) and a.dim() > 0 and a.shape[0] == batch:
            a = a[:samples].detach()
            out.append(a.repeat_interleave(repeats, dim=0) if repeats > 1 else a)
        else:
            out.append(a)
    return tuple(out)


def _remove_handles(handles) -> None:
    for h in handles:
        h.remove()
    handles.clear()


class CurvatureEngine:
    """Hooks on a model, and the per-sample rows of its curvature factors.

    Parameters
    ----------
    model : torch.nn.Module
        The model. A forward hook on it records its positional inputs and output while
        `capture()` is active; forward hooks on its nn.Linear modules record inputs and output
        gradients during the engine's own reruns. Hooks do nothing outside those two moments.
    """

    def __init__(self, model: nn.Module):
        if not isinstance(model, nn.Module):
            raise TypeError(f"the model must be a torch.nn.Module, not {type(model).__name__}")
        self.model = model
        self.captured = Captured()
        self._capturing = False
        self._want_output_grad = False
        self._recording: Optional[Dict[nn.Module, list]] = None
        self._slow = False          # set for good when the fast path's rows failed their check
        self._warned_slow = False
        self._linear_modules = [m for m in model.modules() if isinstance(m, nn.Linear)]
        # parameter id -> [(module, "weight" | "bias")]: a parameter may be shared by modules.
        self._owners: Dict[int, List[Tuple[nn.Module, str]]] = {}
        for m in self._linear_modules:
            for role in ("weight", "bias"):
                p = getattr(m, role, None)
                if isinstance(p, torch.Tensor):
                    self._owners.setdefault(id(p), []).append((m, role))
        # The hooks hold the engine weakly, and a finalizer removes them, so that an optimizer
        # dropped without close() neither stays alive through its model nor leaves hooks behind.
        ref = weakref.ref(self)

        def model_hook(module, args, output):
            engine = ref()
            if engine is not None:
                engine._model_hook(module, args, output)

        def linear_hook(module, args, output):
            engine = ref()
            if engine is not None:
                engine._linear_hook(module, args, output)

        handles = [model.register_forward_hook(model_hook)]
        for m in dict.fromkeys(self._linear_modules):   # a module object once
            handles.append(m.register_forward_hook(linear_hook))
        self._remove = weakref.finalize(self, _remove_handles, handles)
        self.model_parameters = sum(p.numel() for p in model.parameters())

    # -- hooks --------------------------------------------------------------------------------
    def _model_hook(self, module, args, output):
        if not self._capturing:
            return
        if not isinstance(output, torch.Tensor):
            raise TypeError("the model must return one tensor of outputs (batch first), "
                            f"not {type(output).__name__}")
        cap = self.captured
        cap.calls += 1
        cap.args = tuple(a.detach() if isinstance(a, torch.Tensor) else a for a in args)
        cap.output = output.detach()
        cap.output_grad = None
        if self._want_output_grad and output.requires_grad:
            def save(grad, cap=cap, call=cap.calls):
                if cap.calls == call:     # only the last call's output counts
                    cap.output_grad = grad.detach()
            output.register_hook(save)

    def _linear_hook(self, module, args, output):
        if self._recording is None or module not in self._recording:
            return
        record = [args[0].detach(), None]
        self._recording[module].append(record)
        if output.requires_grad:
            def save(grad, record=record):
                record[1] = grad.detach()
            output.register_hook(save)

    def remove_hooks(self) -> None:
        """Remove every hook this engine registered on the model."""
        self._remove()

    @contextlib.contextmanager
    def capture(self, output_grad: bool = False):
        """Record the model's inputs and output (and, with `output_grad`, the loss gradient with
        respect to the output) while the body runs: the optimizer runs the closure in here."""
        self.captured = Captured()
        self._capturing, self._want_output_grad = True, output_grad
        try:
            yield self.captured
        finally:
            self._capturing, self._want_output_grad = False, False

    # -- rows ---------------------------------------------------------------------------------
    def uses_fast_path(self, params: Sequence[torch.Tensor]) -> bool:
        """True when every parameter is the weight or bias of an nn.Linear (and no earlier
        check sent this engine to the slow path)."""
        return not self._slow and all(id(p) in self._owners for p in params)

    def rows(self, args: Tuple, batch: int, samples: int, per_sample: int,
             cotangents: Cotangents, params: Sequence[torch.Tensor],
             info: Optional[FactorInfo] = None) -> torch.Tensor:
        """Rows v^T dz_i/dtheta (R = samples x per_sample rows, sample-major, float64, R x N) for
        the first `samples` samples of the batch whose model inputs are `args`."""
        info = info if info is not None else FactorInfo()
        info.samples, info.rows_per_sample, info.rows = samples, per_sample, samples * per_sample
        if self.uses_fast_path(params):
            u = self._rows_by_hooks(args, batch, samples, per_sample, cotangents, params, info)
            if u is not None:
                info.method = "nn.Linear hooks"
                return u
        if not self._warned_slow:
            self._warned_slow = True
            others = [f"{tuple(p.shape)}" for p in params if id(p) not in self._owners]
            why = (f"parameters outside nn.Linear (shapes {', '.join(others[:4])}"
                   f"{', ...' if len(others) > 4 else ''})" if others else
                   "per-sample rows from the nn.Linear hooks did not add up to autograd's "
                   "gradient (a Linear weight used outside nn.Linear, inputs without the batch "
                   "on dimension 0, or layers that mix samples)")
            warnings.warn(f"kelvin.torch: {why}; per-sample curvature falls back to one autograd "
                          "pass per sample and row: correct, but slow", RuntimeWarning,
                          stacklevel=4)
        info.method = "per-sample autograd"
        return self._rows_by_loop(args, batch, samples, per_sample, cotangents, params, info)

    def _layout(self, params):
        offsets, n = {}, 0
        for p in params:
            offsets[id(p)] = (n, p.numel())
            n += p.numel()
        return offsets, n

    def _rows_by_hooks(self, args, batch, samples, per_sample, cotangents, params, info):
        offsets, n = self._layout(params)
        rows = samples * per_sample
        rep = _batch_rows(args, batch, samples, per_sample)
        modules = {m for p in params for m, _ in self._owners[id(p)]}
        self._recording = {m: [] for m in modules}
        try:
            with torch.enable_grad():
                z = self.model(*rep)
                z2 = z.reshape(rows, -1)
                sample = torch.arange(samples).repeat_interleave(per_sample)
                k = torch.arange(per_sample).repeat(samples)
                v = cotangents(z2.detach().to(torch.float64), sample, k)
                totals = torch.autograd.grad(z2, list(params), grad_outputs=v.to(z2.dtype),
                                             allow_unused=True)
            recording = self._recording
        finally:
            self._recording = None
        m_params = self.model_parameters
        # forward 2 and backward 4 flops per model parameter and row (multiply-adds of the
        # layers; the backward forms input and weight gradients), cotangents ~6 C per row
        info.flops += 6.0 * m_params * rows + 6.0 * v.numel()
        u = torch.zeros(rows, n, dtype=torch.float64)
        for m, records in recording.items():
            for a, d in records:
                if d is None:           # this call did not reach the output
                    continue
                if a.shape[0] != rows or d.shape[0] != rows:
                    self._slow = True   # batch not on dimension 0: the slow path is correct
                    return None
                a64 = a.reshape(rows, -1, a.shape[-1]).to(torch.float64)
                d64 = d.reshape(rows, -1, d.shape[-1]).to(torch.float64)
                w = m.weight
                if id(w) in offsets:
                    o, size = offsets[id(w)]
                    # d_r a_r^T summed over middle dimensions: 2 flops per entry and position
                    u[:, o:o + size] += torch.einsum("rto,rti->roi", d64, a64).reshape(rows, size)
                    info.flops += 2.0 * rows * size * a64.shape[1]
                b = m.bias
                if b is not None and id(b) in offsets:
                    o, size = offsets[id(b)]
                    u[:, o:o + size] += d64.sum(dim=1)
                    info.flops += 1.0 * rows * size * a64.shape[1]
        # The rows must add up to autograd's total (module docstring): a sum and a norm, 3 flops
        # per entry.
        total = torch.cat([(t if t is not None else torch.zeros_like(p)).reshape(-1)
                           for t, p in zip(totals, params)]).to(torch.float64)
        # Componentwise |sum_r u_r| <= sum_r |u_r|, whose norm is at most sqrt(R) ||U||_F: the
        # rounding of R terms in the model's dtype scales with that (and it needs no |U| copy).
        summed = u.sum(dim=0)
        info.flops += 3.0 * u.numel()
        tol = 1e3 * torch.finfo(z2.dtype).eps
        if (summed - total).norm() > tol * math.sqrt(rows) * torch.linalg.norm(u) + 1e-300:
            self._slow = True
            return None
        return u

    def _rows_by_loop(self, args, batch, samples, per_sample, cotangents, params, info):
        _, n = self._layout(params)
        u = torch.zeros(samples * per_sample, n, dtype=torch.float64)
        k = torch.arange(per_sample)
        for i in range(samples):
            one = tuple(a[i:i + 1] if isinstance(a, torch.Tensor) and a.dim() > 0
                        and a.shape[0] == batch else a for a in args)
            with torch.enable_grad():
                z = self.model(*one).reshape(1, -1)
                zi = z.detach().to(torch.float64).expand(per_sample, -1)
                v = cotangents(zi, torch.full((per_sample,), i), k)
                for r in range(per_sample):
                    grads = torch.autograd.grad(z, list(params),
                                                grad_outputs=v[r:r + 1].to(z.dtype),
                                                retain_graph=r + 1 < per_sample, allow_unused=True)
                    u[i * per_sample + r] = torch.cat(
                        [(g if g is not None else torch.zeros_like(p)).reshape(-1)
                         for g, p in zip(grads, params)]).to(torch.float64)
        # per sample: a forward (2 per model parameter) and per_sample backwards (4 each)
        info.flops += samples * self.model_parameters * (2.0 + 4.0 * per_sample)
        return u

    # -- factors ------------------------------------------------------------------------------
    def factor(self, curvature: str, loss: str, samples: int,
               params: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, FactorInfo]:
        """The factor U (m x N, float64; F = U^T U) of the curvature on the first `samples`
        samples of the batch the last `capture()` recorded."""
        check_kinds(curvature, loss)
        cap = self.captured
        if cap.output is None:
            raise ValueError("the closure did not run the model: the curvature needs the model's "
                             "inputs and outputs of the batch (call model(inputs) in the closure)")
        batch, c = cap.batch, cap.outputs
        samples = max(1, min(int(samples), batch))
        info = FactorInfo()
        if cap.calls > 1:
            info.notes.append(f"the closure called the model {cap.calls} times; the curvature "
                              "uses the last call's inputs")
        if curvature == GGN:
            if loss == CROSS_ENTROPY and cap.output.dim() != 2:
                raise ValueError("loss='cross_entropy' needs logits of shape (batch, classes); "
                                 f"the model returned shape {tuple(cap.output.shape)}")
            u = self.rows(cap.args, batch, samples, c, ggn_cotangents(loss), params, info)
        else:
            if cap.output_grad is None:
                raise ValueError("the empirical Fisher needs the loss's gradient at the model's "
                                 "output: the closure must call loss.backward() on a loss computed "
                                 "from the model's output")
            # dl_i/dz_i = B dL/dz_i for the mean loss L = (1/B) sum_i l_i
            per_sample = (cap.output_grad.reshape(batch, -1)[:samples].to(torch.float64) * batch)

            def empirical(z, sample, k, g=per_sample):
                return g[sample]
            u = self.rows(cap.args, batch, samples, 1, empirical, params, info)
        u /= math.sqrt(samples)
        info.flops += u.numel()
        return u, info
