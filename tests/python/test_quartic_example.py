"""python/examples/quartic_generative.py --quick: Whitelam's generative training on the quartic
board. Runs the example once (module-scoped) and checks its JSON, its PNGs, that the board step
used for training is the board's, and that training and generation did what they claim."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "python", "examples"))
sys.path.insert(0, EXAMPLES)

fashion_data = pytest.importorskip("fashion_data")
torch = pytest.importorskip("torch")
if fashion_data.missing_files():
    pytest.skip("Fashion-MNIST (dataset-fashion-mnist) is not installed", allow_module_level=True)


def _finite(value, path="result"):
    if isinstance(value, dict):
        for k, v in value.items():
            _finite(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, f"{path}[{i}]")
    elif isinstance(value, float):
        assert math.isfinite(value), f"{path} = {value}"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quartic")
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "quartic_generative.py"),
                           "--quick", "--out-dir", str(out)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    return result, out


def test_quick_run_prints_one_json_object_with_finite_numbers(run):
    result, out = run
    for key in ("training", "generators", "board_vs_digital", "timing", "wall_s", "cells",
                "alpha_per_us", "threshold_volts", "paper_heat_kt_per_digit"):
        assert key in result
    _finite(result)
    for name in ("digital_float64", "board_ideal", "independent_pixel"):
        q = result["generators"][name]["quality"]
        for key in ("confidence", "diversity", "score", "marginal_error", "correlation_error"):
            assert key in q
    assert "heat_kt_mean" in result["generators"]["board_ideal"]
    with open(os.path.join(out, "results.json")) as f:
        assert json.load(f)["cells"] == result["cells"]


def test_quick_run_writes_the_png_grids_and_the_checkpoint(run):
    result, out = run
    for name in ("digital_float64", "board_ideal", "independent_pixel", "prototypes",
                 "loss_curve"):
        path = os.path.join(out, f"{name}.png")
        assert os.path.getsize(path) > 100, path
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(out, "quartic_checkpoint.json")) as f:
        ck = json.load(f)
    assert ck["kind"] == "kelvin.quartic-generator" and ck["cells"] == result["cells"]
    a = np.asarray(ck["coupling_codes"])
    assert a.shape == (ck["cells"], ck["cells"]) and (a == a.T).all()
    v = result["visible"]
    assert (a[:v, :v] == np.diag(np.diag(a))[:v, :v]).all()  # no visible-visible couplings


def test_training_lowers_the_reverse_path_nll_on_held_out_paths(run):
    # validation paths are fixed (seeded) and not trained on; the decrease must exceed five
    # standard errors of the per-path mean (the estimate's spread over its paths)
    t = run[0]["training"]
    assert t["nll_decrease"] > 5 * t["nll_validation_stderr"], t


def test_board_generation_agrees_with_the_digital_float64_sampler(run):
    # same model on the ideal board (codes, i.e. quantized) against float64: the fraction of
    # pixels on per sample and the heat per sample agree within 4 standard errors of their
    # difference (independent samples, n - 1 dof each). The flawed boards may differ: that is
    # what the example measures, not asserts.
    agree = run[0]["board_vs_digital"]["board_ideal"]
    for key in ("fraction_on", "heat_kt"):
        assert abs(agree[key]["z"]) < 4.0, (key, agree[key])


def test_series_ou_step_equals_van_loan_matrix_exponentials():
    import quartic_step as qs
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(24, 24, generator=gen, dtype=torch.float64) * 0.4
    a = 0.2 * torch.eye(24, dtype=torch.float64) + 0.5 * (w + w.T)
    for scale in (1.0, 100.0):  # the plain series and the scaled-and-squared one
        for x, y in zip(qs.ou_matrices(a * scale), qs.ou_matrices_van_loan(a * scale)):
            assert float((x - y).abs().max() / y.abs().max()) < 1e-13


def test_transition_nll_is_the_density_of_the_strang_substep():
    # one cell: the NLL of v given y must be the log-density of the substep's output, obtained
    # here by pushing a fine grid of OU outputs through the half cubic flow (change of variables)
    import quartic_step as qs
    a = torch.tensor([[0.2]], dtype=torch.float64)
    b, j4, d = torch.tensor([0.05], dtype=torch.float64), torch.tensor([0.3]), 0.01
    y = torch.tensor([[0.4]], dtype=torch.float64)
    phi, gamma, q = qs.ou_matrices(a)
    c = 4 * j4 * qs.TAU
    mean = float(phi[0, 0] * qs.half_cubic(y, c)[0, 0] + gamma[0, 0] * b[0])
    sd = math.sqrt(2 * d * float(q[0, 0]))
    z = torch.linspace(mean - 8 * sd, mean + 8 * sd, 200001, dtype=torch.float64)
    pz = torch.exp(-0.5 * ((z - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    v = qs.half_cubic(z, c)
    pv = pz / torch.gradient(v, spacing=(z,))[0]       # density of v on its (non-uniform) grid
    probe = torch.tensor([[float(v[80000])]], dtype=torch.float64)
    nll = float(qs.transition_nll(y, probe, a, b, j4.double(), d))
    assert abs(nll + math.log(float(pv[80000]))) < 1e-6
