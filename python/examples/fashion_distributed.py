"""fashion_mnist.py under torchrun: data parallel over torch.distributed (gloo, CPU), one emulated
board per rank, the same global batches and steps as one process.

    torchrun --nproc_per_node=2 python/examples/fashion_mnist.py --optimizers tngd --quick

When torchrun has set RANK and WORLD_SIZE, `setup()` joins the gloo process group and every
optimizer's model is wrapped in DistributedDataParallel (DDP broadcasts rank 0's initial weights
and averages the gradients). Each global batch of fashion_data.batch_schedule (the single-process
schedule) is split into W contiguous slices of batch / W examples, rank r taking slice r, so the
ranks together see exactly the one-process batch at every step. NGD and TNGD get the global
curvature batch divided by W per rank (kelvin.torch gathers the ranks' rows: the same global
curvature batch, and in row space the gathered rows fit the board). TNGD's board: the --device
URI on each rank, reseeded per rank by kelvin.torch (or "{rank}" in the URI). The batch loss and
accuracy recorded per step are the global batch's (an all_reduce outside the timed step); the
device time, energy and host time are rank 0's (one of W boards, which run side by side). Only
rank 0 logs and writes results.
"""

from __future__ import annotations

import os

import torch


def launched() -> bool:
    """True under torchrun (or any launcher that sets RANK and WORLD_SIZE)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(settings: dict) -> None:
    """Joins the gloo process group when launched by torchrun, and records world_size and rank
    in `settings` (1 and 0 otherwise)."""
    settings["world_size"], settings["rank"] = 1, 0
    if not launched():
        return
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    world, rank = dist.get_world_size(), dist.get_rank()
    if settings["batch_size"] % world:
        raise SystemExit(f"--batch-size {settings['batch_size']} must be a multiple of the "
                         f"{world} ranks (each rank takes batch / ranks examples)")
    settings["world_size"], settings["rank"] = world, rank


def finish() -> None:
    if launched():
        import torch.distributed as dist
        if dist.is_initialized():
            dist.destroy_process_group()


def local_batch(idx, s: dict):
    """This rank's slice of a global batch's indices."""
    world, rank = s.get("world_size", 1), s.get("rank", 0)
    if world == 1:
        return idx
    per = len(idx) // world
    return idx[rank * per:(rank + 1) * per]


def wrap(model: torch.nn.Module, s: dict) -> torch.nn.Module:
    """The model in DistributedDataParallel when there are several ranks."""
    if s.get("world_size", 1) == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(model)


def local_curvature_batch(s: dict):
    """Curvature samples per rank: the global curvature batch / W (None stays None)."""
    cb, world = s["curvature_batch"], s.get("world_size", 1)
    if cb is None or world == 1:
        return cb
    if cb < world:
        raise SystemExit(f"the curvature batch {cb} is below the {world} ranks: each rank needs "
                         "at least one curvature sample (use a larger --curvature-batch)")
    return cb // world


def global_seen(seen: dict, examples: int, s: dict) -> dict:
    """The step's batch loss (mean) and correct count over all ranks' slices."""
    if s.get("world_size", 1) == 1:
        return seen
    import torch.distributed as dist
    buf = torch.tensor([seen["loss"] * examples, float(seen["correct"])], dtype=torch.float64)
    dist.all_reduce(buf)
    return {"loss": float(buf[0]) / (examples * s["world_size"]), "correct": int(buf[1])}
