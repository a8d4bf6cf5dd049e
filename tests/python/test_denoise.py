"""kelvin.denoise (python/src/bind_denoising.cpp): a denoising chain on an emulated p-bit board.
Lattice edge indices come from python/examples/dtm_layout.py's copy of the canonical order, so
these tests also check that copy against the board."""

import math
import os
import sys

import numpy as np
import pytest

import kelvin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python", "examples"))

from dtm_layout import lattice_edges  # noqa: E402

URI = "sim:pbit?rows=8&cols=8&degree=8&seed=3"
ROWS = COLS = 8


def copy_steps(codes, beta_code):
    """One step per code: output node (r, 2c) coupled to input node (r, 2c + 1) with that code
    (the jump (0, 1)), nothing else; 32 pairs on the 8 x 8 board."""
    edges = lattice_edges(ROWS, COLS, 8)
    index = {(int(u), int(v)): k for k, (u, v) in enumerate(edges)}
    outputs = [r * COLS + 2 * c for r in range(ROWS) for c in range(COLS // 2)]
    inputs = [o + 1 for o in outputs]
    steps = []
    for code in codes:
        w = np.zeros(len(edges), dtype=np.int8)
        for o, i in zip(outputs, inputs):
            w[index[(o, i)]] = code
        steps.append({"weights": w, "biases": np.zeros(ROWS * COLS, dtype=np.int8),
                      "beta_schedule": [beta_code], "input_nodes": inputs,
                      "output_nodes": outputs})
    return steps


def test_the_output_copies_the_input_at_the_rate_the_coupling_sets():
    # P(copy) = sigmoid(2 beta J) = sigmoid(2 * 0.5 * 1) = 0.7311 per pair and step. 64 chains x
    # 32 pairs = 2048 independent Bernoulli trials: stderr sqrt(p (1 - p) / 2048) = 0.0098;
    # tolerance 4 stderr. Uniform noise (no coupling) would give 0.5, 23 stderr away.
    with kelvin.open(URI) as board:
        r = kelvin.denoise(board, copy_steps([1], 128), sweeps=5, chains=64, noise_seed=7)
    assert r.states.shape == (64, 2, 32) and r.states.dtype == np.int8
    assert set(np.unique(r.states)) <= {-1, 1}
    rate = float((r.states[:, 1] == r.states[:, 0]).mean())
    p = 1.0 / (1.0 + math.exp(-1.0))
    assert abs(rate - p) < 4 * math.sqrt(p * (1 - p) / 2048), rate
    assert r.run_ids.shape == (64, 1)
    assert r.summary.chains == 64 and r.summary.steps == 1 and r.summary.width == 32
    assert r.summary.energy.total_j > 0


def test_saturated_steps_carry_a_given_pattern_through_the_chain_with_signs():
    # |J| = 6 at beta 2: |2 beta h| = 24 saturates, so copies are exact; a negative code flips.
    x_T = np.where(np.arange(32) % 3 == 0, 1, -1)
    with kelvin.open(URI) as board:
        r = kelvin.denoise(board, copy_steps([6, -6, 6], 512), x_T, sweeps=3, chains=2)
    assert r.states.shape == (2, 4, 32)
    for c in range(2):
        np.testing.assert_array_equal(r.states[c, 0], x_T)
        np.testing.assert_array_equal(r.states[c, 1], x_T)
        np.testing.assert_array_equal(r.states[c, 2], -x_T)
        np.testing.assert_array_equal(r.states[c, 3], -x_T)


def test_steps_may_be_objects_and_the_beta_schedule_defaults_to_beta_one():
    class Step:
        def __init__(self, d):
            self.__dict__.update({k: v for k, v in d.items() if k != "beta_schedule"})

    with kelvin.open(URI) as board:
        r = kelvin.denoise(board, [Step(s) for s in copy_steps([6], 512)], sweeps=2)
    np.testing.assert_array_equal(r.states[0, 1], r.states[0, 0])  # beta 1, J 6: saturated


def test_bad_steps_are_refused_by_name():
    with kelvin.open(URI) as board:
        steps = copy_steps([1], 128)
        with pytest.raises(kelvin.InvalidArgumentError, match=r"steps\[0\] has no 'biases'"):
            kelvin.denoise(board, [{k: v for k, v in steps[0].items() if k != "biases"}])
        bad = dict(steps[0], weights=np.full(len(steps[0]["weights"]), 7))
        with pytest.raises(kelvin.OutOfRangeError, match="weight 7"):
            kelvin.denoise(board, [bad])
        with pytest.raises(kelvin.OutOfRangeError, match=r"x_T\[0\] = 2"):
            kelvin.denoise(board, steps, np.full(32, 2))
        with pytest.raises(kelvin.InvalidArgumentError, match="x_T"):
            kelvin.denoise(board, steps, np.zeros(32))
        with pytest.raises(kelvin.InvalidArgumentError, match="chains"):
            kelvin.denoise(board, steps, chains=0)
