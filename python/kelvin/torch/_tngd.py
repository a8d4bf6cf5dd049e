"""TNGD: thermodynamic natural gradient descent on a kelvin resonator board."""

from __future__ import annotations

import time
from typing import Dict, Optional

import kelvin
import numpy as np
import torch
from torch.optim.optimizer import required

from ._board import BoardSession, is_emulated, split_uri, with_params
from ._curvature import GGN
from ._distributed import rank_seed
from ._optimizers import STATE_KEY, _CurvatureOptimizer

DEFAULT_DEVICE = "sim:resonator?cells=64"
_PRECONDITIONING = ("auto", "jacobi", "none")


class TNGD(_CurvatureOptimizer):
    """Thermodynamic natural gradient descent (Donatella et al., arXiv 2405.13817) on a board.

    Each step runs the closure (gradient g of the batch's mean loss), takes the curvature factor
    U of the first `curvature_batch` samples (F = U^T U, the same code as NGD), and sends g and U
    to the board through kelvin.NaturalGradientEstimator: the cells relax under
    dx = -((F + damping I) x - g) dt + noise from x0 = g (or, with warm_start, the previous
    estimate) for t device microseconds and return x(t), the mean of `repeats` reads. Large t
    (or transient_tolerance) gives the natural gradient (F + damping I)^-1 g, t = 0 gives g, and
    between them TNGD interpolates. The update is theta <- theta - lr * u with u the estimate,
    or u_i = est_i / (|est_i| + 1e-8) with adam=True (the paper's TNGD-Adam: Adam with
    beta1 = beta2 = 0, as kelvin's C++ tngd_update()).

    With N parameters and m = rows of U: N <= cells runs in parameter space (F + damping I on
    the board); N > cells needs m <= cells and runs in row space (the board relaxes the m x m
    system of U's row space, the rest evolves exactly on the host: the same trajectory).

    Parameters
    ----------
    model : torch.nn.Module
        The model itself (passing model.parameters() is a TypeError: per-sample Jacobians need
        hooks on the model's modules). Parameters of nn.Linear layers take a fast path (one
        extra forward and backward on the curvature rows); any other parameter makes the
        curvature take one autograd pass per sample and row (correct, slow; warned once). The
        model returns one tensor, batch first: logits for loss="cross_entropy".
    device : str, default "sim:resonator?cells=64"
        kelvin URI of the board, opened with kelvin.open (ignored when `board` is given).
    lr : float
        Learning rate (required), per parameter group; schedulers may change group["lr"].
    damping : float, default 1e-3
        lambda in F + lambda I.
    t : float, default 50.0
        Analog time per estimate in device microseconds (the estimator's time_us; the paper's
        50 tau): an interpolation between g and the natural gradient unless it is long against
        1 / lambda_min; the step's warnings say when.
    transient_tolerance : float, optional
        Run until at most this fraction of the start is left in the slowest mode (the natural
        gradient itself); t is then not used. Default None (t decides).
    warm_start : bool, default False
        Start each estimate from the previous step's estimate instead of g (kept in the
        optimizer's state and passed as the estimator's start=, so it survives state_dict).
    delay : float, default 0.0
        Upload delay in device microseconds: the board keeps relaxing under the previous step's
        codes before the new ones take over (acts like momentum; the estimator's
        upload_delay_us). Parameter space only (N <= cells): the row-space path ignores it with
        a warning. See Reproducibility for what it costs.
    adam : bool, default False
        TNGD-Adam update (above).
    curvature : {"ggn", "empirical_fisher"}, default "ggn"
        As in NGD: the Gauss-Newton matrix (C rows per sample, C the model's outputs) or the
        empirical Fisher (1 row per sample).
    curvature_batch : int, optional
        Samples (the first of the batch) the curvature uses. Default: the whole batch when
        N <= cells (F is N x N whatever m is); otherwise as many as fit the board's row space:
        floor(cells / C) for "ggn", cells for "empirical_fisher". A value whose m exceeds the
        cells when N > cells is a ValueError.
    loss : {"cross_entropy", "mse"}, default "cross_entropy"
        What the closure computes (mean over the batch), as in NGD: cross-entropy on logits
        (H = diag(p) - p p^T) or mse_loss with its mean over all entries (H = (2/C) I).
    repeats : int, default 4
        Reads per estimate (error bars with repeats - 1 degrees of freedom).
    seed : int, default 1
        Key of the estimator's randomized rounding: step k uses rounding_seed = mix(seed, k).
    preconditioning : {"auto", "jacobi", "none"}, default "auto"
        The estimator's Jacobi preconditioning choice.
    board : kelvin board, optional
        An open board to use instead of opening `device`; not closed by the optimizer, and its
        noise is its own (see Reproducibility).
    param_groups : list of dict, optional
        Standard torch parameter groups of the model's parameters; only lr may differ between
        groups (every other option is one value for the whole model, since the curvature
        couples all parameters). Default: every parameter of the model that requires grad.
    estimator_options : dict, optional
        Further keyword arguments of kelvin.NaturalGradientEstimator (timeout_s, noise_sigmas,
        ...). Default none.
    process_group : torch.distributed process group, optional
        The ranks to combine with (below). Default: a DistributedDataParallel model's group, else
        the default group when torch.distributed is initialized, else none.

    DistributedDataParallel
    -----------------------
    With torch.distributed initialized (gloo) and the model wrapped in DDP (pass the DDP
    module or its .module), every rank owns a board and applies the same update: DDP averages
    g; the ranks all_gather their curvature rows, rescaled so that F is the mean over the
    GLOBAL curvature batch; each rank estimates (F + damping I)^-1 g on its board; the
    estimates are averaged by all_reduce (the noise variance drops by the world size W).
    kelvin.torch._distributed says why this scheme and not the others. curvature_batch is per
    rank; in row space (N > cells) the gathered rows must fit the board, so the default is
    floor(cells / (C W)) samples per rank. A "{rank}" in `device` is replaced by the rank (one
    board per rank, e.g. tcp:host{rank}:7400); without it, rank r > 0 opens an emulated
    board with the URI's seed mixed with r (a different board and serial per rank), and the
    rounding seed is mixed with r on every board. Rank 0 is the single-process run, and the
    reproducibility below holds per rank (the warm start's state is the averaged estimate,
    the same on every rank). last_step and totals add communication_time_s and
    communication_bytes (the buffers of the step's collectives, part of host_time_s),
    world_size and rank.

    Reproducibility
    ---------------
    Every random draw of step k is a function of (a seed, k), so a run repeats exactly, and a
    state_dict round trip resumes bit for bit on an emulated board: the rounding uses
    mix(seed, k); when the optimizer opened a ``sim:`` board itself, it reopens it for each step
    with the URI's seed replaced by mix(uri seed, k) (serial pinned, so the emulated component
    flaws stay the same; about a millisecond per step); warm start's previous estimate is in the
    state (state_dict()["state"]["kelvin"]). A board passed as `board=` or a real board keeps its
    own noise, which no state_dict holds. With delay > 0 and N <= cells the optimizer keeps one
    board and one estimator for the run (the delay replays the previous step's programmed codes,
    which the estimator holds): such a run repeats exactly from its seeds, but after
    load_state_dict the first step has no delay and the noise starts afresh, so it is not bit for
    bit. (With N > cells the estimator ignores the delay, with a warning: its row-space basis
    changes every step.)

    Attributes
    ----------
    last_step : dict
        NGD's report (host_time_s excludes the board call) plus device_time_s, energy_j (the
        board job's summary.energy.total_j), board_wall_time_s (the estimator call and any
        board reopen), board_open_time_s, board_uri, method ("parameter space" or "row space"),
        time_us and the estimator's warnings.
    last_result : kelvin result
        The estimator's last result (estimate, standard_error, summary).
    last_standard_error : torch.Tensor
        The standard error of the applied estimate (under DDP: of the ranks' average).
    totals : dict
        Sums of the numeric reports since construction, and steps.
    board : kelvin board
        The board in use (a new object each step when reseeded).
    """

    _name = "TNGD"
    _example = "TNGD(model, device=..., lr=...)"
    _global_keys = ("damping", "t", "transient_tolerance", "warm_start", "delay", "adam",
                    "curvature", "curvature_batch", "loss", "repeats", "seed", "preconditioning")

    def __init__(self, model, device: str = DEFAULT_DEVICE, *, lr=required, damping=1e-3,
                 t=50.0, transient_tolerance=None, warm_start=False, delay=0.0, adam=False,
                 curvature=GGN, curvature_batch=None, loss="cross_entropy", repeats=4, seed=1,
                 preconditioning="auto", board=None, param_groups=None,
                 estimator_options: Optional[Dict] = None, process_group=None):
        if board is not None and device not in (DEFAULT_DEVICE, getattr(board, "uri", device)):
            raise ValueError("TNGD: give either device= (a URI to open) or board= (an open "
                             "board), not both")
        defaults = dict(lr=lr, damping=damping, t=t, transient_tolerance=transient_tolerance,
                        warm_start=warm_start, delay=delay, adam=adam, curvature=curvature,
                        curvature_batch=curvature_batch, loss=loss, repeats=repeats, seed=seed,
                        preconditioning=preconditioning)
        self.estimator_options = dict(estimator_options or {})
        self._session = None
        super().__init__(model, param_groups, defaults, process_group)   # validates the options
        if board is None:
            device = self._rank_device(device)
        self._session = BoardSession(device, board)
        self.last_result = None
        self.last_standard_error = None
        # The estimator checks its own options (repeats, preconditioning, ...): construct one now
        # so that a bad value fails here, as kelvin.InvalidArgumentError, not at the first step.
        try:
            kelvin.NaturalGradientEstimator(self._session.board,
                                            **self._estimator_options(self._options()))
        except BaseException:
            self.close()
            raise

    def _rank_device(self, device: str) -> str:
        """This rank's board URI: "{rank}" replaced, or an emulated board reseeded per rank."""
        if "{rank}" in device:
            return device.replace("{rank}", str(self.rank))
        if self.rank == 0 or not is_emulated(device):
            return device
        seed = int(split_uri(device)[1].get("seed", "1"))   # the emulator's default seed is 1
        return with_params(device, seed=rank_seed(seed, self.rank))

    @property
    def board(self):
        return self._session.board if self._session is not None else None

    def _check_options(self, o: Dict) -> None:
        for key in ("t", "delay"):
            v = o[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"TNGD: {key} must be a number >= 0 (device microseconds), "
                                 f"not {v!r}")
        tol = o["transient_tolerance"]
        if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float))
                                or not 0 < tol < 1):
            raise ValueError(f"TNGD: transient_tolerance must be None or in (0, 1), not {tol!r}")
        seed = o["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"TNGD: seed must be an integer >= 0, not {seed!r}")
        if o["preconditioning"] not in _PRECONDITIONING:
            raise ValueError(f"TNGD: preconditioning must be one of {_PRECONDITIONING}, "
                             f"not {o['preconditioning']!r}")

    def _curvature_samples(self, o, batch, outputs, n):
        cells = self._session.cells
        per = outputs if o["curvature"] == GGN else 1
        world = self.world_size   # row space: all ranks' rows are gathered onto each board
        ranks = f" from each of {world} ranks" if world > 1 else ""
        cb = o["curvature_batch"]
        if cb is not None:
            samples = min(cb, batch)
            if n > cells and samples * per * world > cells:
                raise ValueError(
                    f"TNGD: curvature_batch={cb} gives {samples * per} curvature rows "
                    f"({per} per sample){ranks}, above the board's {cells} cells; with {n} "
                    f"parameters (> {cells}) the board works in the curvature's row space, so "
                    f"use curvature_batch <= {cells // (per * world)} (or leave it None)")
            return samples
        if n <= cells:
            return batch
        if per * world > cells:
            raise ValueError(f"TNGD: the Gauss-Newton curvature of a model with {outputs} outputs "
                             f"has {outputs} rows per sample{ranks}, more than the board's "
                             f"{cells} cells; use a larger board or "
                             "curvature='empirical_fisher'")
        return min(batch, cells // (per * world))

    def _estimator_options(self, o: Dict) -> Dict:
        options = dict(damping=float(o["damping"]), time_us=float(o["t"]),
                       transient_tolerance=o["transient_tolerance"], repeats=o["repeats"],
                       warm_start=bool(o["warm_start"]), upload_delay_us=float(o["delay"]),
                       preconditioning=o["preconditioning"])
        options.update(self.estimator_options)
        return options

    def _direction(self, g, u, o, report):
        state = self.state[STATE_KEY]
        step = state.get("step", 0) + 1
        options = self._estimator_options(o)
        kwargs = {}
        start = state.get("start")
        if o["warm_start"] and start is not None and start.numel() == g.numel():
            kwargs["start"] = start.numpy()
        t0 = time.perf_counter()
        persistent = o["delay"] > 0 and g.numel() <= self._session.cells
        seed = rank_seed(o["seed"], self.rank)
        try:
            est, opened, uri = self._session.estimator(step, seed, options, persistent)
            res = est.estimate(g.numpy(), J=u.numpy(), **kwargs)
        except Exception as error:
            if self._dist is not None:   # the other ranks wait in the average: tell them
                self._dist.average(None, None, g.numel(), error)
            raise
        board_wall = time.perf_counter() - t0
        d = torch.from_numpy(np.array(res.estimate, dtype=np.float64))
        se = torch.from_numpy(np.array(res.standard_error, dtype=np.float64))
        if self._dist is not None:
            d, se = self._dist.average(d, se, g.numel())
        self.last_standard_error = se
        self.last_result = res
        if torch.isfinite(d).all():     # else step() refuses it, and the state stays
            state["start"] = d.clone()
        s = res.summary
        report.update({
            "device_time_s": float(s.device_time_s),
            "energy_j": float(s.energy.total_j),
            "board_wall_time_s": board_wall,
            "board_open_time_s": opened,
            "board_uri": uri,
            "method": str(s.method),
            "time_us": float(s.time_us),
            "warnings": [str(w) for w in s.warnings],
        })
        return d

    def load_state_dict(self, state_dict):
        """Load a state_dict; the next step is then the saved run's next step (see
        Reproducibility in the class docstring)."""
        super().load_state_dict(state_dict)
        start = self.state[STATE_KEY].get("start")
        if start is not None:   # keep float64 whatever the model's dtype
            self.state[STATE_KEY]["start"] = start.to(torch.float64)
        if self._session is not None:
            self._session.forget()

    def close(self) -> None:
        """Remove the hooks and close the board if the optimizer opened it."""
        super().close()
        if self._session is not None:
            self._session.close()
