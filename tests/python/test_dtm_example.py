"""python/examples/dtm_fashion.py --quick end to end (DTM trained with the emulated p-bit board in
the loop), and its pieces: the layout on the lattice, the forward process and the digital
sampler. Skipped when Debian's dataset-fashion-mnist is not installed (nothing is downloaded)."""

import json
import math
import os
import sys

import numpy as np
import pytest

import kelvin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python", "examples"))

import dtm_layout  # noqa: E402
import dtm_model  # noqa: E402
import fashion_data  # noqa: E402

MISSING = fashion_data.missing_files()
needs_data = pytest.mark.skipif(
    bool(MISSING), reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); "
    "missing " + ", ".join(MISSING))
needs_trainer = pytest.mark.skipif(not hasattr(kelvin, "BoltzmannTrainer"),
                                   reason="kelvin.BoltzmannTrainer is not built (issue 17, B)")


def finite_numbers(x, path="result"):
    """Every number in a JSON tree is finite (bools and strings pass)."""
    if isinstance(x, dict):
        for k, v in x.items():
            finite_numbers(v, f"{path}.{k}")
    elif isinstance(x, list):
        for k, v in enumerate(x):
            finite_numbers(v, f"{path}[{k}]")
    elif isinstance(x, float):
        assert math.isfinite(x), path


def test_every_layout_edge_is_a_lattice_edge_and_inputs_touch_only_their_output():
    layout = dtm_layout.make_layout(14)
    lmap = dtm_layout.LatticeMap(layout)
    assert len(layout.offsets()) == 4 and layout.nodes == 4 * 196
    for origin in layout.offsets():
        idx = lmap.edge_indices(origin)   # KeyError if an edge were not on the lattice
        assert len(set(idx.tolist())) == len(idx)
    d = layout.pixels
    inputs = layout.edges >= d
    inputs &= layout.edges < 2 * d
    touching = np.flatnonzero(inputs.any(axis=1))
    np.testing.assert_array_equal(touching, layout.fixed)
    np.testing.assert_array_equal(layout.edges[layout.fixed], np.c_[np.arange(d), d + np.arange(d)])
    assert not layout.trainable[layout.fixed].any() and layout.trainable.sum() > 1000
    # bipartite: every edge joins the two colours, so block Gibbs by colour is exact
    assert (layout.colour[layout.edges[:, 0]] != layout.colour[layout.edges[:, 1]]).all()


def test_the_forward_coupling_is_the_flip_law():
    # w = -(1/2) ln tanh(lambda dt / 2) must equal beta * code, and the flip rate (1 - a) / 2.
    f = dtm_model.ForwardProcess([4, 3, 2, 1], 0.25)
    for w, ldt in zip(f.coupling, f.lambda_dt):
        assert -0.5 * math.log(math.tanh(ldt / 2)) == pytest.approx(w, rel=1e-12)
    # 200,000 pixels: flip-rate stderr <= sqrt(0.25 / 2e5) = 0.0011; tolerance 4 stderr.
    rng = np.random.default_rng(5)
    x = rng.choice(np.array([-1, 1], dtype=np.int8), size=(1000, 200))
    for t in range(1, 5):
        rate = float((f.noise(x, t, rng) != x).mean())
        assert abs(rate - f.flip[t - 1]) < 4 * math.sqrt(0.25 / x.size), (t, rate)


def test_the_digital_sampler_copies_at_the_coupling_rate():
    # Only the fixed edges (code 2 at beta 0.25): P(copy) = sigmoid(2 * 0.5) = 0.7311 per pixel.
    # 64 chains x 196 pixels = 12,544 trials; stderr 0.0040; tolerance 4 stderr.
    layout = dtm_layout.make_layout(14)
    w = np.zeros(len(layout.edges))
    w[layout.fixed] = 2
    s = dtm_model.DigitalSampler(layout.nodes, layout.edges, w, np.zeros(layout.nodes),
                                 layout.colour, layout.inputs(), layout.outputs())
    rng = np.random.default_rng(2)
    x = rng.choice(np.array([-1.0, 1.0]), size=(64, 196))
    y = s.run(x, np.array([0.25]), 3, rng)
    p = 1 / (1 + math.exp(-1.0))
    assert abs((y == x).mean() - p) < 4 * math.sqrt(p * (1 - p) / y.size)


@needs_data
@needs_trainer
def test_quick_run_beats_independent_pixels_and_board_matches_digital(tmp_path, capsys):
    import dtm_fashion
    result = dtm_fashion.main(["--quick", "--out-dir", str(tmp_path)])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    with open(tmp_path / "results.json") as f:
        assert json.load(f) == printed
    finite_numbers(printed)
    assert result["quick"] and result["forward"]["codes"] == [2, 1]
    for path in result["pngs"].values():
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    gen = result["generation"]
    assert gen["samples"] == 128 and gen["energy"]["total_j"] > 0
    # Board vs the same codes sampled digitally: the same law, so the per-image ink fraction
    # and classifier confidence differ by less than 4 standard errors (two-sample, Welch).
    agree = result["board_vs_digital_codes"]
    assert abs(agree["ink_fraction"]["z"]) < 4 and abs(agree["confidence"]["z"]) < 4, agree
    assert result["dtm_beats_independent"]["beats"], result["scores"]
