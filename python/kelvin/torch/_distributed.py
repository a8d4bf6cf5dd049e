"""NGD and TNGD under torch.distributed (DistributedDataParallel, gloo, CPU): the curvature of the
global batch on every rank, one board per rank.

The scheme (kelvin.torch's choice)
----------------------------------
DDP has already averaged the gradient g over the ranks when the closure returns. Each rank then

1. takes the curvature factor U_r (m_r x N, F_r = U_r^T U_r, the mean over its s_r curvature
   samples) of its own curvature samples, and all_gathers the rows, rescaled by sqrt(s_r / S)
   with S = sum_r s_r, so that every rank holds the same factor U (sum_r m_r rows) of
   F = U^T U = (1/S) sum over ALL curvature samples: the global batch's curvature, exactly (the
   rows are concatenated in rank order; nothing is summed);
2. solves on its own board: each rank's estimate of (F + damping I)^-1 g uses the same F and g;
3. all_reduces the estimates (and their squared standard errors) and divides by the world size W,
   so that every rank applies the same direction, whose board-noise variance is 1/W of one
   board's (W boards' reads averaged). NGD is deterministic: step 3 is skipped (identical inputs
   give identical directions).

Why this scheme. The alternatives: (a) rank 0 solves and broadcasts: the other W - 1 boards sit
idle, and the noise is one board's; (b) all_reduce of the dense F: N^2 numbers per step (12,730
parameters: 1.3 GB of float64) where the rows are m x N (60 x 12,730: 6 MB), and F must then be
factored again for the board's row space; (c) averaging the ranks' local natural gradients
(F_r + damping I)^-1 g: cheap, but the mean of inverses is not the inverse of the mean, so it
is not the natural gradient of the global batch (it is biased towards the directions a few
ranks' samples see). Gathering rows costs (W - 1) m N numbers received per rank, as small as
(a)'s broadcast when m << N, keeps every board busy and gives the global batch's natural
gradient; its limit is the row-space case (N > cells): the gathered rows must fit the board,
sum_r m_r <= cells, so the default per-rank curvature batch is floor(cells / (C W)) samples
(C rows per sample), the same global curvature batch as one process with cells // C.

Wrong setups fail with a clear error on every rank (not a hang in the next collective): the
first collective of a step carries each rank's status, its parameter count and checksums of its
gradient and parameters, so a rank whose step failed, a model that differs between ranks, or a
model not wrapped in DistributedDataParallel (gradients not averaged) is named on all ranks.
"""

from __future__ import annotations

import math
import time
from typing import Dict, List, Optional, Tuple

import torch

_RANK_STREAM = 1 << 63   # rank r > 0's seeds: mix(seed, 2^63 + r); steps never reach 2^63
_META = 6                # status, N, rows, samples, gradient checksum, parameter checksum


def rank_seed(seed: int, rank: int) -> int:
    """Rank r's seed: the seed itself on rank 0 (so one rank is the single-process run), an
    unrelated 64-bit seed for every other rank."""
    from ._board import mix
    return int(seed) if rank == 0 else mix(seed, _RANK_STREAM + int(rank))


def _dist():
    import torch.distributed as dist
    return dist if dist.is_available() else None


def _checksum(v: torch.Tensor) -> float:
    """An index-weighted sum: equal on equal vectors, different (almost surely) otherwise."""
    w = torch.arange(1, v.numel() + 1, dtype=torch.float64) / v.numel()
    return float((v.to(torch.float64) * w).sum())


class Distributed:
    """The process group of an optimizer and its collectives (see the module docstring).

    Build with `Distributed.resolve(process_group, model)`: None when there is nothing to
    combine (torch.distributed not initialized, or one rank)."""

    def __init__(self, group, name: str):
        dist = _dist()
        self.group = group
        self.name = name
        self.world = dist.get_world_size(group)
        self.rank = dist.get_rank(group)
        self.last: Dict = {}
        self.exchanged = False   # this step's first collective ran

    @staticmethod
    def group_of(process_group, model, name: str):
        """The process group to use, or None: `process_group` if given (torch.distributed must
        be initialized), else a DistributedDataParallel model's group, else the default group
        when torch.distributed is initialized."""
        dist = _dist()
        ready = dist is not None and dist.is_initialized()
        if process_group is not None and not ready:
            raise RuntimeError(f"{name}: process_group= was given but torch.distributed is not "
                               "initialized; call torch.distributed.init_process_group('gloo') "
                               "first (torchrun sets RANK, WORLD_SIZE and MASTER_ADDR)")
        if not ready:
            return None
        group = process_group
        if group is None:
            group = getattr(model, "process_group", None) or dist.group.WORLD
        backend = str(dist.get_backend(group))
        if backend != "gloo":
            raise ValueError(f"{name}: torch.distributed with the {backend!r} backend; "
                             "kelvin.torch combines its CPU float64 curvature rows and estimates "
                             "with the 'gloo' backend (init_process_group('gloo'))")
        return group

    @classmethod
    def resolve(cls, process_group, model, name: str) -> Optional["Distributed"]:
        group = cls.group_of(process_group, model, name)
        if group is None:
            return None
        d = cls(group, name)
        return d if d.world > 1 else None

    # -- collectives ---------------------------------------------------------------------------
    def _account(self, seconds: float, nbytes: int) -> None:
        self.last["communication_time_s"] = self.last.get("communication_time_s", 0.0) + seconds
        self.last["communication_bytes"] = self.last.get("communication_bytes", 0) + nbytes

    def begin_step(self) -> None:
        self.last = {"communication_time_s": 0.0, "communication_bytes": 0,
                     "world_size": self.world, "rank": self.rank}
        self.exchanged = False

    def _exchange_meta(self, local: List[float]) -> torch.Tensor:
        dist = _dist()
        t0 = time.perf_counter()
        mine = torch.tensor(local, dtype=torch.float64)
        out = [torch.empty(_META, dtype=torch.float64) for _ in range(self.world)]
        dist.all_gather(out, mine, group=self.group)
        self.exchanged = True
        self._account(time.perf_counter() - t0, self.world * _META * 8)
        return torch.stack(out)

    def fail(self, error: BaseException) -> None:
        """This rank's step failed before the curvature exchange: tell the others (they raise,
        naming this rank), then the caller re-raises its own error."""
        self._exchange_meta([0.0] * _META)
        self._messages(f"{type(error).__name__}: {error}")

    def _messages(self, mine: str) -> List[str]:
        dist = _dist()
        messages: List[Optional[str]] = [None] * self.world
        dist.all_gather_object(messages, mine, group=self.group)
        return messages

    def combine(self, u: torch.Tensor, samples: int, g: torch.Tensor,
                params: torch.Tensor) -> Tuple[torch.Tensor, int]:
        """The global curvature factor (module docstring, step 1) from this rank's factor `u`
        (the mean over `samples` samples), and the global curvature samples S. `g` and `params`
        (this rank's gradient and flat parameters) are checked to be the same on every rank."""
        dist = _dist()
        m, n = u.shape
        meta = self._exchange_meta([1.0, float(n), float(m), float(samples), _checksum(g),
                                    _checksum(params)])
        failed = [r for r in range(self.world) if meta[r, 0] != 1.0]
        if failed:
            messages = self._messages("")
            raise ValueError(f"{self.name}: the step failed on rank {failed[0]} of {self.world} "
                             f"({messages[failed[0]]}); the parameters were not changed")
        sizes = meta[:, 1].long().tolist()
        if len(set(sizes)) != 1:
            raise ValueError(f"{self.name}: the ranks' models differ: {sizes} trainable "
                             "parameters on ranks 0.."
                             f"{self.world - 1}; every rank must train the same model")
        if not bool((meta[:, 4] == meta[0, 4]).all()):
            raise ValueError(f"{self.name}: the gradients differ between the ranks (rank "
                             f"{self.rank} of {self.world}); wrap the model in "
                             "torch.nn.parallel.DistributedDataParallel so that the gradients "
                             "are averaged before the step")
        if not bool((meta[:, 5] == meta[0, 5]).all()):
            raise ValueError(f"{self.name}: the parameters differ between the ranks; start every "
                             "rank from the same weights (DistributedDataParallel broadcasts "
                             "rank 0's when it wraps the model)")
        rows = meta[:, 2].long().tolist()
        counts = meta[:, 3].tolist()
        total = sum(counts)
        t0 = time.perf_counter()
        width = max(rows)
        padded = torch.zeros(width, n, dtype=torch.float64)
        padded[:m] = u
        out = [torch.empty(width, n, dtype=torch.float64) for _ in range(self.world)]
        dist.all_gather(out, padded, group=self.group)
        self._account(time.perf_counter() - t0, self.world * width * n * 8)
        parts = [out[r][:rows[r]] * math.sqrt(counts[r] / total) for r in range(self.world)]
        return torch.cat(parts), int(total)

    def average(self, d: Optional[torch.Tensor], standard_error: Optional[torch.Tensor],
                n: int, error: Optional[BaseException] = None) -> Tuple[torch.Tensor,
                                                                        torch.Tensor]:
        """The mean of the ranks' estimates and its standard error (module docstring, step 3):
        sqrt(sum_r se_r^2) / W. A rank whose board failed passes d=None and its `error`: every
        rank then raises (this one its own error, the others one naming it) instead of waiting."""
        dist = _dist()
        buf = torch.zeros(2 * n + self.world, dtype=torch.float64)
        if error is None:
            buf[:n] = d.to(torch.float64)
            if standard_error is not None:
                buf[n:2 * n] = standard_error.to(torch.float64) ** 2
        else:
            buf[2 * n + self.rank] = 1.0
        t0 = time.perf_counter()
        dist.all_reduce(buf, op=dist.ReduceOp.SUM, group=self.group)
        self._account(time.perf_counter() - t0, buf.numel() * 8)
        failed = [r for r in range(self.world) if buf[2 * n + r] != 0]
        if failed:
            messages = self._messages("" if error is None else f"{type(error).__name__}: {error}")
            if error is not None:
                raise error
            raise RuntimeError(f"{self.name}: the board of rank {failed[0]} of {self.world} "
                               f"failed ({messages[failed[0]]}); the parameters were not changed")
        return buf[:n] / self.world, buf[n:2 * n].sqrt() / self.world
