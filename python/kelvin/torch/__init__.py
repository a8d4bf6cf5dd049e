"""PyTorch optimizers on kelvin boards: TNGD (thermodynamic natural gradient on a resonator board)
and NGD (its exact digital counterpart), with the same curvature.

Example
-------
>>> import torch, kelvin.torch
>>> model = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))
>>> opt = kelvin.torch.TNGD(model, "sim:resonator?cells=64&seed=1", lr=0.1)
>>> def closure():
...     opt.zero_grad()
...     loss = torch.nn.functional.cross_entropy(model(x), y)
...     loss.backward()
...     return loss
>>> opt.step(closure)            # doctest: +SKIP
>>> opt.last_step["device_time_s"], opt.last_step["method"]   # doctest: +SKIP

Curvature (shared by both): the Gauss-Newton matrix (curvature="ggn") or the empirical Fisher
("empirical_fisher") of the first `curvature_batch` samples of the batch, as a factor U with
F = U^T U (never formed by this package); see kelvin.torch._curvature for the formulas. The
helpers `per_sample_jacobians` and `curvature_factor` expose it.

Under torch.distributed (DistributedDataParallel, gloo) both take the curvature of the global
batch, one board per rank for TNGD: kelvin.torch._distributed says how and why.
"""

from ._functional import curvature_factor, per_sample_jacobians
from ._optimizers import NGD, damped_solve
from ._tngd import TNGD

__all__ = ["TNGD", "NGD", "per_sample_jacobians", "curvature_factor", "damped_solve"]
