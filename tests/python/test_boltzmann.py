"""kelvin.BoltzmannTrainer on a small emulated p-bit board: moments against exact enumeration
within their error bars, a few training steps, checkpoints (Python and CLI read each other's),
and the errors bad input gets; kelvin.exact_ising / exact_marginal / kl_divergence in closed
form."""

import math

import numpy as np
import pytest
from scipy import stats

import kelvin

URI = "sim:pbit?rows=12&cols=12&degree=12&seed=4"
COLS = 12

# A 2 x 4 block of the lattice: nodes (r, c) -> model node 4 r + c, lattice node 12 r + c; the
# checkerboard colour (r + c) % 2 makes it an RBM: colour 0 visible, colour 1 hidden.
PLACEMENT = [r * COLS + c for r in range(2) for c in range(4)]
ROLES = ["visible" if (k // 4 + k % 4) % 2 == 0 else "hidden" for k in range(8)]
EDGES = np.array([[4 * r + c, 4 * r + c + 1] for r in range(2) for c in range(3)]
                 + [[c, 4 + c] for c in range(4)])
# Integer weights and biases: the board realizes them exactly (codes), so the law it samples
# is the model's own.
WEIGHTS = np.array([1.0, -2.0, 1.0, 2.0, -1.0, 1.0, -1.0, 2.0, 1.0, -2.0])
BIAS = np.array([1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0])
BETA = 0.5  # code 128: exact


def visible_nodes():
    return [k for k, r in enumerate(ROLES) if r == "visible"]


def trainer(board, **options):
    settings = dict(nodes=8, roles=ROLES, edges=EDGES, weights=WEIGHTS, bias=BIAS,
                    placement=PLACEMENT, beta=BETA, batch=6, free_copies=12, chains=4,
                    burn_in_sweeps=100, sweeps=200, sample_every=2, learning_rate=0.05, seed=3)
    settings.update(options)
    return kelvin.BoltzmannTrainer(board, **settings)


def batch_of(n, seed):
    return np.random.default_rng(seed).integers(0, 2, size=(n, 4)) * 2 - 1


def t_bound(dof, comparisons, family_error=1e-3):
    """Two-sided Student-t quantile (dof = copies - 1) with a Bonferroni split of family_error
    over the comparisons: a correct estimate exceeds bound x stderr with probability below
    family_error in all."""
    return stats.t.isf(family_error / (2 * comparisons), dof)


def test_exact_enumeration_matches_the_closed_form_of_two_spins():
    w, beta = 1.5, 0.7
    mean, corr, log_z = kelvin.exact_ising(2, np.array([[0, 1]]), np.array([w]), None, beta)
    np.testing.assert_allclose(mean, [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(corr, [math.tanh(beta * w)], rtol=1e-12)
    assert log_z == pytest.approx(math.log(4 * math.cosh(beta * w)), rel=1e-12)
    p = kelvin.exact_marginal(2, np.array([[0, 1]]), np.array([w]), np.zeros(2), beta, [0, 1])
    same = math.exp(beta * w) / (2 * (math.exp(beta * w) + math.exp(-beta * w)))
    np.testing.assert_allclose(p, [same, 0.5 - same, 0.5 - same, same], rtol=1e-12)
    assert kelvin.kl_divergence(p, p) == 0.0
    assert kelvin.kl_divergence(p, np.full(4, 0.25)) == pytest.approx(
        float(np.sum(p * np.log(4 * p))), rel=1e-12)


def test_board_moments_agree_with_exact_enumeration_within_error_bars():
    with kelvin.open(URI) as board:
        t = trainer(board)
        visible = batch_of(6, seed=1)
        r = t.estimate(visible)
    assert t.steps_done == 0
    assert r.summary.updated is False
    # Free phase: the model's law.
    mean, corr, _ = kelvin.exact_ising(8, EDGES, WEIGHTS, BIAS, BETA)
    assert r.free_dof == 11
    bound = t_bound(r.free_dof, len(mean) + len(corr))
    assert np.all(np.abs(r.free_mean - mean) <= bound * r.free_mean_stderr), (r.free_mean, mean)
    assert np.all(np.abs(r.free_correlation - corr) <= bound * r.free_correlation_stderr)
    # Clamped phase: visible nodes are the batch exactly; a hidden node given the visible ones
    # has mean tanh(beta (b_j + sum_i w_ij v_i)), averaged over the batch's examples (the
    # stderr over copies includes the spread between examples: conservative).
    v_nodes = visible_nodes()
    np.testing.assert_allclose(r.clamped_mean[v_nodes], visible.mean(axis=0), atol=1e-12)
    hidden = [k for k in range(8) if k not in v_nodes]
    expected = []
    for j in hidden:
        field = np.full(len(visible), BIAS[j])
        for (a, b), w in zip(EDGES, WEIGHTS):
            if j in (a, b):
                other = b if a == j else a
                field += w * visible[:, v_nodes.index(other)]
        expected.append(np.mean(np.tanh(BETA * field)))
    bound = t_bound(r.clamped_dof, len(hidden))
    assert np.all(np.abs(r.clamped_mean[hidden] - expected)
                  <= bound * r.clamped_mean_stderr[hidden])


def test_steps_move_the_weights_and_report_a_summary():
    with kelvin.open(URI) as board:
        t = trainer(board, burn_in_sweeps=10, sweeps=20, learning_rate=0.1)
        before = t.weights
        for k in range(3):
            r = t.step(batch_of(6, seed=10 + k))
        assert t.steps_done == 3
        assert r.summary.step == 3 and r.summary.updated is True
        assert r.summary.gradient_norm > 0.0
        assert r.summary.energy.total_j > 0.0
        assert "Boltzmann step 3" in str(r.summary)
        assert not np.array_equal(t.weights, before)
        assert t.bias.shape == (8,)
        np.testing.assert_array_equal(t.edges, EDGES)
        assert t.roles == ROLES and t.placement == PLACEMENT
        weights, biases = t.program()
        assert weights.dtype == np.int8 and biases.shape == (144,)
        samples = t.sample_visible(10)
        assert samples.shape == (10, 4) and samples.dtype == np.int8
        assert set(np.unique(samples)) <= {-1, 1}
        generated = t.sample(5)
        assert generated.visible.shape == (5, 4)
        assert generated.summary.samples == 5 and generated.summary.energy.total_j > 0.0


def test_checkpoints_round_trip_through_python_and_the_cli(tmp_path, kelvin_cli):
    path = tmp_path / "rbm.json"
    with kelvin.open(URI) as board:
        t = trainer(board, burn_in_sweeps=10, sweeps=20)
        t.step(batch_of(6, seed=2))
        t.save(str(path))
        back = kelvin.BoltzmannTrainer.load(board, str(path))
        np.testing.assert_array_equal(back.weights, t.weights)
        np.testing.assert_array_equal(back.bias, t.bias)
        assert back.steps_done == 1 and back.roles == ROLES
        back.step(np.where(batch_of(6, seed=3) > 0, 1, 0))  # 0/1 bits work as well
        assert back.steps_done == 2
    out = kelvin_cli("generate", "--uri", URI, "--checkpoint", path, "--samples", 4)
    assert out["kind"] == "kelvin.boltzmann-machine" and out["steps_done"] == 1
    assert np.array(out["data"]).shape == (4, 4)


def test_bad_input_is_refused_with_a_clear_message():
    with kelvin.open(URI) as board:
        with pytest.raises(kelvin.InvalidArgumentError,
                           match="roles\\[1\\] = 'visibel' is not one of 'visible', 'hidden'"):
            trainer(board, roles=["visible", "visibel"] + ROLES[2:])
        with pytest.raises(kelvin.InvalidArgumentError, match="weights has 3 entries for 10"):
            trainer(board, weights=[1.0, 2.0, 3.0])
        with pytest.raises(kelvin.InvalidArgumentError, match="schedule = 'linear'"):
            trainer(board, schedule="linear")
        with pytest.raises(kelvin.NotSupportedError, match="not a lattice edge"):
            trainer(board, edges=np.vstack([EDGES[:-1], [[0, 7]]]))
        t = trainer(board, burn_in_sweeps=10, sweeps=20)
        bad = batch_of(6, seed=1).astype(float)
        bad[0, 1] = 2
        with pytest.raises(kelvin.InvalidArgumentError,
                           match="visible\\[0, 1\\] = 2 is not a spin"):
            t.step(bad)
        with pytest.raises(kelvin.InvalidArgumentError,
                           match="visible has 5 columns; the model has 4"):
            t.step(np.ones((6, 5)))
        with pytest.raises(kelvin.InvalidArgumentError, match="mixes 0 and -1"):
            t.step(np.array([[0, -1, 1, 1]] * 6))
        with pytest.raises(kelvin.InvalidArgumentError, match="batch"):
            t.step(batch_of(5, seed=1))
        with pytest.raises(kelvin.InvalidArgumentError, match="no input nodes"):
            t.step(batch_of(6, seed=1), inputs=np.ones((6, 1)))
        assert t.steps_done == 0
    with pytest.raises(kelvin.InvalidArgumentError):
        kelvin.exact_ising(30, np.array([[0, 1]]), np.array([1.0]))
