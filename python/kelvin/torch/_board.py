"""TNGD's board side: seeds keyed by (seed, step), the per-step board and estimator.

Reproducibility design (TNGD's docstring has the user's version). Every random draw of a step is
a function of (a seed, the step number), never of how many steps ran before in this process:

* the estimator's randomized rounding: a fresh kelvin.NaturalGradientEstimator per step with
  rounding_seed = mix(seed, step);
* the board's noise, when the optimizer opened an emulated board (a ``sim:`` URI) itself: the board
  is reopened for each step with its URI's seed replaced by mix(uri seed, step) and its serial
  pinned to the first board's (the serial keys the emulated component flaws, so pinning it keeps
  the same "hardware" across steps; opening costs about a millisecond);
* warm start: the previous estimate is the optimizer's state, passed as ``start=``.

So step k is the same whether steps 1..k-1 ran in this process or were loaded from a state_dict.
Two cases cannot have that, and say so: a board passed in with ``board=`` (and any non-emulated
board) keeps its own noise stream; and an upload delay (delay > 0) replays the previous step's
programmed codes, which only the estimator holds between steps, so delay > 0 in parameter space
(N <= cells) keeps one board and one estimator for the run (rebuilt, without the delay on its
first step, after load_state_dict). In row space (N > cells) the estimator ignores the delay (its
basis changes with every step; it warns), so the per-step scheme above applies.
"""

from __future__ import annotations

import time
from typing import Dict, Tuple

import kelvin

_MASK = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def mix(seed: int, step: int) -> int:
    """A 64-bit seed for (seed, step): distinct steps and seeds give unrelated streams (unlike
    seed + step, under which seed 1 at step 2 would repeat seed 2 at step 1)."""
    return _splitmix64(_splitmix64(int(seed) & _MASK) ^ (int(step) & _MASK))


def split_uri(uri: str) -> Tuple[str, Dict[str, str]]:
    """'sim:resonator?cells=8&seed=1' -> ('sim:resonator', {'cells': '8', 'seed': '1'})."""
    head, _, query = uri.partition("?")
    params: Dict[str, str] = {}
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        params[key] = value
    return head, params


def with_params(uri: str, **changes: str) -> str:
    """The URI with parameters set (added at the end or replaced in place; order kept)."""
    head, params = split_uri(uri)
    params.update({k: str(v) for k, v in changes.items()})
    return head + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def is_emulated(uri: str) -> bool:
    return uri.startswith("sim:")


class BoardSession:
    """The board TNGD runs on, and a step's estimator.

    Parameters
    ----------
    device : str
        kelvin URI, opened with kelvin.open unless `board` is given.
    board : kelvin board, optional
        An open board to use as is (never closed here, never reseeded).
    """

    def __init__(self, device: str, board=None):
        self.owned = board is None
        self.board = kelvin.open(device) if board is None else board
        self.uri = device if board is None else getattr(board, "uri", device)
        self.cells = int(self.board.cells)
        self.reseeds = self.owned and is_emulated(self.uri)
        if self.reseeds:
            head, params = split_uri(self.uri)
            self._uri_seed = int(params.get("seed", "1"))   # the emulator's default seed is 1
            self._serial = params.get("serial") or self.board.serial
        self._estimator = None
        self._estimator_key = None

    def estimator(self, step: int, seed: int, options: Dict,
                  persistent: bool) -> Tuple[object, float, str]:
        """The estimator for `step` (1-based), the wall time spent opening a board, and the
        URI of the board used. `options` are kelvin.NaturalGradientEstimator keyword arguments
        without rounding_seed. `persistent`: keep one estimator across steps (an upload delay in
        parameter space needs the previous step's codes, which it holds)."""
        opened = 0.0
        if persistent:
            key = tuple(sorted((k, repr(v)) for k, v in options.items()))
            if self._estimator is None or self._estimator_key != key:
                self._estimator = kelvin.NaturalGradientEstimator(
                    self.board, rounding_seed=mix(seed, step), **options)
                self._estimator_key = key
            return self._estimator, opened, self.uri
        self._estimator = self._estimator_key = None
        if self.reseeds:
            t0 = time.perf_counter()
            uri = with_params(self.uri, seed=mix(self._uri_seed, step), serial=self._serial)
            fresh = kelvin.open(uri)
            self.board.close()
            self.board = fresh
            opened = time.perf_counter() - t0
        else:
            uri = self.uri
        est = kelvin.NaturalGradientEstimator(self.board, rounding_seed=mix(seed, step), **options)
        return est, opened, uri

    def forget(self) -> None:
        """Drop the persistent estimator (after load_state_dict: its previous step is not the
        loaded one)."""
        self._estimator = self._estimator_key = None

    def close(self) -> None:
        self._estimator = None
        if self.owned and self.board is not None:
            self.board.close()
        self.board = None
