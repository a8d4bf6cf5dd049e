"""kelvin's Python module against the C++ program: every job gives the same numbers as the
`kelvin` CLI on the same board URI and seeds (both run the same runtime; the CLI's JSON prints
doubles exactly), and the summaries carry the same fields."""

import numpy as np
import pytest
import scipy.sparse

import kelvin

URI = "sim:resonator?cells=8&seed=3"


def spd(n, seed, cond=20.0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(np.geomspace(1.0, cond, n)) @ q.T


def same_summary(py_summary, cli_summary):
    """Every field but the host's wall time (and what derives from it) is identical."""
    skip = {"wall_time_s", "host_j", "total_j", "brief"}

    def strip(d):
        return {k: (strip(v) if isinstance(v, dict) else v) for k, v in d.items() if k not in skip}

    assert strip(py_summary.to_dict()) == strip(cli_summary)


def test_find_lists_what_the_cli_finds(kelvin_cli):
    assert kelvin.find("sim") == kelvin_cli("find", "sim")["devices"]
    assert kelvin.DEFAULT_RESONATOR_URI in kelvin.find()


def test_open_gives_both_families_with_describe(kelvin_cli):
    with kelvin.open(URI) as board:
        assert isinstance(board, kelvin.ResonatorBoard)
        assert board.cells == 8
        assert board.describe() == kelvin_cli("probe", "--uri", URI)
    with kelvin.open("sim:pbit?rows=8&cols=8&degree=8&seed=2") as pbit:
        assert isinstance(pbit, kelvin.PbitBoard)
        assert pbit.describe()["family"] == "pbit"
        assert pbit.cells == 64


def test_solve_matches_the_cli(tmp_path, kelvin_cli):
    A, b = spd(6, 1), np.linspace(-1.0, 1.0, 6)
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "b.npy", b)
    with kelvin.open(URI) as board:
        r = kelvin.solve(board, A, b)
    cli = kelvin_cli("solve", "--uri", URI, "--matrix", tmp_path / "A.npy", "--rhs",
                     tmp_path / "b.npy")
    np.testing.assert_array_equal(r.x, cli["x"])
    np.testing.assert_array_equal(r.standard_error, cli["stderr"])
    same_summary(r.summary, cli["summary"])
    assert str(r.summary) == r.summary.brief_report()
    assert r.summary.method == "direct" and r.summary.energy.total_j > 0


def test_natgrad_matches_the_cli(tmp_path, kelvin_cli):
    F, g = spd(5, 2), np.arange(1.0, 6.0)
    np.save(tmp_path / "F.npy", F)
    np.save(tmp_path / "g.npy", g)
    with kelvin.open(URI) as board:
        r = kelvin.natgrad(board, g, F, damping=0.01, time_us=20.0)
    cli = kelvin_cli("natgrad", "--uri", URI, "--fisher", tmp_path / "F.npy", "--grad",
                     tmp_path / "g.npy", "--damping", 0.01, "--time", 20)
    np.testing.assert_array_equal(r.estimate, cli["estimate"])
    np.testing.assert_array_equal(r.standard_error, cli["stderr"])
    same_summary(r.summary, cli["summary"])
    assert r.repeat_estimates.shape == (r.summary.repeats, 5)
    np.testing.assert_allclose(r.repeat_estimates.mean(axis=0), r.estimate, rtol=1e-12)


def test_logdet_matches_the_cli(tmp_path, kelvin_cli):
    A = spd(4, 3, cond=5.0)
    np.save(tmp_path / "A.npy", A)
    with kelvin.open(URI) as board:
        r = kelvin.logdet(board, A, steps=10, trajectories=100)
    cli = kelvin_cli("logdet", "--uri", URI, "--matrix", tmp_path / "A.npy", "--steps", 10,
                     "--trajectories", 100)
    assert r.logdet == cli["logdet"]
    same_summary(r.summary, cli["summary"])
    assert r.forward_work.shape == (100,)


def test_sample_matches_the_cli_from_dense_and_sparse_models(tmp_path, kelvin_cli):
    import json
    uri = "sim:pbit?rows=8&cols=8&degree=8&seed=2"
    # A 4-node chain on the lattice's first row (lattice edges (0,1), (1,2), (2,3)).
    edges = [(0, 1, 3), (1, 2, -2), (2, 3, 4)]
    (tmp_path / "m.json").write_text(json.dumps(
        {"nodes": 4, "edges": [list(e) for e in edges], "bias": [1, 0, -1, 0]}))
    J = np.zeros((4, 4))
    for i, j, w in edges:
        J[i, j] = J[j, i] = w
    h = np.array([1, 0, -1, 0])
    with kelvin.open(uri) as board:
        dense = kelvin.sample(board, J, h, sweeps=400, chains=4, beta=0.5)
    with kelvin.open(uri) as board:
        sparse = kelvin.sample(board, scipy.sparse.csr_matrix(J), h, sweeps=400, chains=4,
                               beta=0.5)
    cli = kelvin_cli("sample", "--uri", uri, "--model", tmp_path / "m.json", "--sweeps", 400,
                     "--chains", 4, "--beta", 0.5)
    np.testing.assert_array_equal(dense.mean, cli["mean"])
    np.testing.assert_array_equal(sparse.mean, cli["mean"])
    np.testing.assert_array_equal(dense.mean_stderr, cli["mean_stderr"])
    assert [list(map(int, e)) + [c] for e, c in zip(dense.edges, dense.edge_correlations)] == \
        cli["edge_correlations"]
    same_summary(dense.summary, cli["summary"])


def test_inverse_agrees_with_numpy_within_its_error_bars():
    A = spd(4, 4, cond=4.0)
    with kelvin.open(URI) as board:
        r = kelvin.inverse(board, A, batches=20)
    exact = np.linalg.inv(A)
    # 19 dof; two-sided 1e-3 Student-t quantile Bonferroni-corrected over 10 distinct entries
    # (scipy.stats.t.isf(0.5e-4, 19) = 4.88).
    z = np.abs(r.inverse - exact) / r.standard_error
    assert z[np.triu_indices(4)].max() < 4.88, r.summary.full_report()
    assert r.summary.kind == "InverseSummary"


def test_stream_counts_every_sample():
    with kelvin.open("sim:resonator?cells=4&seed=5") as board:
        board.program_couplings(np.diag([9830] * 4))
        board.program_biases([0, 0, 0, 0])
        board.set_noise(2000)
        next_sequence, received, lost = 0, 0, 0
        with kelvin.stream(board, duration_s=0.2) as s:
            for block in s:
                assert block.samples.shape == block.codes.shape
                assert block.samples.shape[1] == 4
                assert block.first_sequence == next_sequence + block.lost_before
                np.testing.assert_allclose(block.samples, block.offset + block.lsb * block.codes)
                next_sequence = block.first_sequence + block.samples.shape[0]
                received += block.samples.shape[0]
                lost += block.lost_before
        c = s.counters()
    assert c["accounted"] and c["received"] == received and c["lost"] == lost
    assert c["produced"] == received + lost + c["buffered"]
    assert received > 10000  # 0.2 s at the emulated 1 MS/s, even when behind real time


def test_summary_fields_are_attributes_and_the_brief_is_str():
    with kelvin.open(URI) as board:
        r = kelvin.solve(board, spd(3, 5), np.ones(3), batches=4)
    s = r.summary
    assert s["unknowns"] == s.unknowns == 3
    assert "device_time_s" in s and s.device_time_s > 0
    assert str(s).startswith("n=3 on ")
    assert "Solve summary" in s.full_report() or "solve" in s.full_report().lower()
    with pytest.raises(AttributeError, match="no field 'nonsense'"):
        s.nonsense
