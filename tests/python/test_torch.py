"""Tests of kelvin.torch: the curvature against brute-force autograd, NGD against a dense solve,
TNGD on the emulated resonator board (training, agreement with NGD in both of the estimator's
paths, bit-for-bit resume, schedulers) and the errors users meet."""

import copy
import io
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

import kelvin
import kelvin.torch as kt
from kelvin.torch._board import mix, split_uri, with_params

torch.set_num_threads(1)
F = torch.nn.functional
BOARD = "sim:resonator?cells=64&seed=1"


def mlp(sizes, seed, act=torch.nn.Tanh, dtype=torch.float64):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), act()]
    return torch.nn.Sequential(*layers[:-1]).to(dtype)


def classification(n, d, c, seed, dtype=torch.float64):
    """Inputs with scales spread over a decade, labels from a random linear teacher."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=dtype) * torch.logspace(0, -1, d, dtype=dtype)
    w = torch.randn(d, c, generator=g, dtype=dtype)
    y = (x @ w * 3 + 0.3 * torch.randn(n, c, generator=g, dtype=dtype)).argmax(dim=1)
    return x, y


def make_closure(opt, model, x, y, loss="cross_entropy"):
    def closure():
        opt.zero_grad()
        out = model(x)
        value = F.cross_entropy(out, y) if loss == "cross_entropy" else F.mse_loss(out, y)
        value.backward()
        return value
    return closure


def flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def brute_jacobians(model, x):
    """(B, C, N) by one autograd.grad per sample and output."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        z = model(x[i:i + 1]).reshape(-1)
        rows.append(torch.stack([torch.cat([g.reshape(-1) for g in torch.autograd.grad(
            z[c], params, retain_graph=True)]) for c in range(z.numel())]))
    return torch.stack(rows).to(torch.float64)


def brute_ggn(model, x, loss):
    """(1/B) sum_i J_i^T H_i J_i with H_i from autograd's Hessian of the per-sample loss."""
    jac = brute_jacobians(model, x)
    with torch.no_grad():
        z = model(x).to(torch.float64)
    f = torch.zeros(jac.shape[2], jac.shape[2], dtype=torch.float64)
    for i in range(x.shape[0]):
        if loss == "cross_entropy":
            h = torch.autograd.functional.hessian(lambda v: torch.logsumexp(v, 0), z[i])
        else:   # mse_loss's per-sample share (1/C) ||z - y||^2 (y drops out of the Hessian)
            h = torch.autograd.functional.hessian(lambda v: (v ** 2).mean(), z[i])
        f += jac[i].T @ h @ jac[i]
    return f / x.shape[0]


def brute_sample_gradients(model, x, y, loss):
    params = list(model.parameters())
    f = F.cross_entropy if loss == "cross_entropy" else F.mse_loss
    return torch.stack([torch.cat([g.reshape(-1) for g in torch.autograd.grad(
        f(model(x[i:i + 1]), y[i:i + 1]), params)]) for i in range(x.shape[0])])


class Scale(torch.nn.Module):
    """A parameter outside nn.Linear."""
    def __init__(self, n):
        super().__init__()
        self.s = torch.nn.Parameter(torch.linspace(0.5, 1.5, n, dtype=torch.float64))

    def forward(self, x):
        return x * self.s


class Tied(torch.nn.Module):
    """An nn.Linear whose weight is also used outside it (the hooks miss that use)."""
    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.lin = torch.nn.Linear(4, 4).double()

    def forward(self, x):
        return self.lin(torch.tanh(x @ self.lin.weight))


class Sequence(torch.nn.Module):
    """nn.Linear on (batch, positions, features): per-sample sums over the positions."""
    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.a = torch.nn.Linear(3, 4).double()
        self.b = torch.nn.Linear(8, 3).double()

    def forward(self, x):
        return self.b(torch.relu(self.a(x.reshape(-1, 2, 3))).reshape(-1, 8))


# -- curvature --------------------------------------------------------------------------------

@pytest.mark.parametrize("model", [
    mlp([5, 7, 3], 0),
    mlp([5, 6, 4, 3], 1, act=lambda: torch.nn.ReLU(inplace=True)),   # in-place after a Linear
    Sequence(),
], ids=["tanh", "inplace-relu", "positions"])
def test_per_sample_jacobians_from_the_hooks_equal_autograd(model):
    x = torch.randn(6, 5 if not isinstance(model, Sequence) else 6, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the fast path: no fallback warning
        jac = kt.per_sample_jacobians(model, x)
    assert (jac - brute_jacobians(model, x)).abs().max() <= 1e-10


@pytest.mark.parametrize("model", [
    torch.nn.Sequential(torch.nn.Linear(5, 4).double(), Scale(4), torch.nn.Tanh(),
                        torch.nn.Linear(4, 3).double()),
    Tied(),
], ids=["parameter-outside-linear", "tied-weight"])
def test_models_the_hooks_cannot_take_fall_back_to_per_sample_autograd_with_one_warning(model):
    x = torch.randn(5, 5 if not isinstance(model, Tied) else 4, dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match="falls back to one autograd pass per sample"):
        jac = kt.per_sample_jacobians(model, x)
    assert (jac - brute_jacobians(model, x)).abs().max() <= 1e-10
    # an optimizer warns once, not every step
    opt = kt.NGD(model, lr=0.0)
    y = torch.tensor([0, 1, 2, 0, 1] if not isinstance(model, Tied) else [0, 1, 2, 3, 0])
    with pytest.warns(RuntimeWarning) as record:
        for _ in range(3):
            opt.step(make_closure(opt, model, x, y))
    assert len([w for w in record if "falls back" in str(w.message)]) == 1


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_ggn_factor_gives_the_gauss_newton_matrix(loss):
    model = mlp([4, 6, 3], 2)
    x = torch.randn(7, 4, dtype=torch.float64)
    u = kt.curvature_factor(model, x, curvature="ggn", loss=loss)
    assert u.shape == (7 * 3, sum(p.numel() for p in model.parameters()))
    assert (u.T @ u - brute_ggn(model, x, loss)).abs().max() <= 1e-10


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_empirical_fisher_rows_are_the_per_sample_loss_gradients(loss):
    model = mlp([4, 6, 3], 5)
    x, y = classification(8, 4, 3, 5)
    if loss == "mse":
        y = F.one_hot(y, 3).to(torch.float64)
    u = kt.curvature_factor(model, x, curvature="empirical_fisher", loss=loss, targets=y,
                            samples=6)
    expected = brute_sample_gradients(model, x[:6], y[:6], loss) / math.sqrt(6)
    assert (u - expected).abs().max() <= 1e-10


# -- NGD --------------------------------------------------------------------------------------

@pytest.mark.parametrize("curvature,loss", [("ggn", "cross_entropy"), ("ggn", "mse"),
                                            ("empirical_fisher", "cross_entropy")])
def test_ngd_direction_equals_a_dense_solve(curvature, loss):
    model = mlp([4, 6, 3], 6)
    x, y = classification(12, 4, 3, 6)
    if loss == "mse":
        y = F.one_hot(y, 3).to(torch.float64)
    damping = 1e-2
    params = list(model.parameters())
    out = model(x)
    value = F.cross_entropy(out, y) if loss == "cross_entropy" else F.mse_loss(out, y)
    g = torch.cat([t.reshape(-1) for t in torch.autograd.grad(value, params)])
    if curvature == "ggn":
        fisher = brute_ggn(model, x[:5], loss)
    else:
        gi = brute_sample_gradients(model, x[:5], y[:5], loss)
        fisher = gi.T @ gi / 5
    expected = torch.linalg.solve(fisher + damping * torch.eye(len(g), dtype=torch.float64), g)
    theta = flat(model)
    opt = kt.NGD(model, lr=1.0, damping=damping, curvature=curvature, curvature_batch=5,
                 loss=loss)
    opt.step(make_closure(opt, model, x, y, loss))
    step = theta - flat(model)
    assert (step - expected).norm() <= 1e-9 * expected.norm()
    assert opt.last_step["device_time_s"] == 0.0 and opt.last_step["curvature_rows"] == (
        15 if curvature == "ggn" else 5)


def test_ngd_adam_steps_by_the_sign_of_the_direction():
    model = mlp([4, 6, 3], 7)
    x, y = classification(10, 4, 3, 7)
    ref = copy.deepcopy(model)
    plain = kt.NGD(ref, lr=1.0)
    theta = flat(ref)
    plain.step(make_closure(plain, ref, x, y))
    d = theta - flat(ref)
    opt = kt.NGD(model, lr=0.01, adam=True)
    opt.step(make_closure(opt, model, x, y))
    assert torch.allclose(theta - flat(model), 0.01 * d / (d.abs() + 1e-8), rtol=1e-10, atol=0)


# -- TNGD on the board --------------------------------------------------------------------------

def full_loss(model, x, y):
    with torch.no_grad():
        return float(F.cross_entropy(model(x), y))


def test_tngd_lowers_the_loss_of_a_small_model():
    x, y = classification(256, 6, 3, 8)
    model = mlp([6, 8, 3], 8)          # 83 parameters > 64 cells: the row-space path
    opt = kt.TNGD(model, BOARD, lr=0.5, damping=1e-2)
    before = full_loss(model, x, y)
    for k in range(5):
        batch = slice(32 * k, 32 * (k + 1))
        opt.step(make_closure(opt, model, x[batch], y[batch]))
    after = full_loss(model, x, y)
    assert after < 0.5 * before, (before, after)   # measured: 1.164 -> 0.344 (SGD: 0.827)
    report = opt.last_step
    assert report["method"] == "row space" and report["curvature_rows"] == 21 * 3
    assert report["device_time_s"] > 0 and report["energy_j"] > 0 and report["host_flops"] > 0
    assert opt.totals["steps"] == 5 and opt.totals["device_time_s"] >= report["device_time_s"]
    opt.close()


@pytest.mark.parametrize("sizes,method", [([4, 6, 3], "parameter space"),
                                          ([6, 8, 3], "row space")])
def test_tngd_with_a_long_time_matches_ngd_within_its_error_bars(sizes, method):
    x, y = classification(32, sizes[0], 3, 9)
    damping, repeats = 0.05, 8
    directions = {}
    for name in ("ngd", "ngd-half", "tngd"):
        model = mlp(sizes, 9)
        theta = flat(model)
        if name.startswith("ngd"):
            opt = kt.NGD(model, lr=1.0, damping=damping / (2 if name == "ngd-half" else 1),
                         curvature_batch=10)
        else:
            opt = kt.TNGD(model, BOARD, lr=1.0, damping=damping, curvature_batch=10,
                          transient_tolerance=1e-4, repeats=repeats)
        opt.step(make_closure(opt, model, x, y))
        directions[name] = theta - flat(model)
    res = opt.last_result
    assert opt.last_step["method"] == method
    se = torch.from_numpy(np.asarray(res.standard_error))
    n = len(se)
    # (estimate - mean) / stderr is Student-t with repeats - 1 dof; Bonferroni over the n
    # components at a family-wise 1%: k = t^-1(1 - 0.01 / (2 n), repeats - 1). The transient
    # left (at most transient_tolerance of the start in the slowest mode) is bounded by the
    # summary's transient_bound, which is added.
    k = stats.t.ppf(1 - 0.01 / (2 * n), repeats - 1)
    bound = k * se + float(res.summary.transient_bound)
    worst = float(((directions["tngd"] - directions["ngd"]).abs() / bound).max())
    assert worst <= 1.0, (worst, k, float(se.max()))
    # The comparison has teeth: NGD with half the damping is rejected (measured: 2.1 and 3.5
    # times the bound in the worst component, parameter and row space; 0.8 times the damping
    # gave 1.13 and 1.14, twice the damping 0.94 and 2.4).
    assert float(((directions["tngd"] - directions["ngd-half"]).abs() / bound).max()) > 1.0
    opt.close()


def test_upload_delay_runs_from_the_second_step_in_parameter_space():
    x, y = classification(64, 4, 3, 15)
    model = mlp([4, 6, 3], 15)          # 51 parameters: parameter space, where a delay runs
    opt = kt.TNGD(model, BOARD, lr=0.3, damping=1e-2, delay=5.0, warm_start=True)
    delays = []
    for k in range(3):
        opt.step(make_closure(opt, model, x[16 * k:16 * (k + 1)], y[16 * k:16 * (k + 1)]))
        delays.append(float(opt.last_result.summary.upload_delay_us))
    assert delays == [0.0, 5.0, 5.0]
    opt.close()


def run(model, opt, batches, steps):
    for k in steps:
        xb, yb = batches[k]
        opt.step(make_closure(opt, model, xb, yb))


def test_state_dict_round_trip_resumes_bit_for_bit_on_a_seeded_board():
    x, y = classification(128, 6, 3, 10)
    batches = [(x[32 * k:32 * (k + 1)], y[32 * k:32 * (k + 1)]) for k in range(4)]
    options = dict(lr=0.3, damping=1e-2, warm_start=True, seed=5)
    # uninterrupted: 4 steps
    model_a = mlp([6, 8, 3], 10)
    opt_a = kt.TNGD(model_a, BOARD, **options)
    run(model_a, opt_a, batches, range(4))
    # 2 steps, save, a fresh model, optimizer and board, load, 2 more steps
    model_b = mlp([6, 8, 3], 10)
    opt_b = kt.TNGD(model_b, BOARD, **options)
    run(model_b, opt_b, batches, range(2))
    buffer = io.BytesIO()
    torch.save({"model": model_b.state_dict(), "opt": opt_b.state_dict()}, buffer)
    opt_b.close()
    buffer.seek(0)
    saved = torch.load(buffer)
    model_c = mlp([6, 8, 3], 99)
    model_c.load_state_dict(saved["model"])
    # lr=1.0 here: as for any torch optimizer, the loaded groups' lr (0.3) takes over
    opt_c = kt.TNGD(model_c, BOARD, lr=1.0, damping=1e-2, warm_start=True, seed=5)
    opt_c.load_state_dict(saved["opt"])
    run(model_c, opt_c, batches, range(2, 4))
    # Bit for bit because each step's board is reopened with seed mix(1, step); with one board
    # kept for the run (board=...), the same comparison differed by 0.35 in a weight.
    assert torch.equal(flat(model_a), flat(model_c))
    assert opt_c.state["kelvin"]["step"] == 4
    # and the seeds matter: another rounding seed gives another trajectory
    model_d = mlp([6, 8, 3], 10)
    opt_d = kt.TNGD(model_d, BOARD, **{**options, "seed": 6})
    run(model_d, opt_d, batches, range(4))
    assert not torch.equal(flat(model_a), flat(model_d))
    for opt in (opt_a, opt_c, opt_d):
        opt.close()


def test_an_lr_scheduler_changes_the_step():
    x, y = classification(64, 4, 3, 11)
    steps = {}
    for gamma in (1.0, 0.5):
        model = mlp([4, 6, 3], 11)
        opt = kt.TNGD(model, BOARD, lr=0.4, damping=1e-2)
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=gamma)
        opt.step(make_closure(opt, model, x[:32], y[:32]))
        scheduler.step()
        theta = flat(model)
        opt.step(make_closure(opt, model, x[32:], y[32:]))
        steps[gamma] = (theta - flat(model), torch.from_numpy(np.array(opt.last_result.estimate)))
        assert opt.param_groups[0]["lr"] == pytest.approx(0.4 * gamma)
        opt.close()
    # same seeds, same board noise per step: the same estimate, half the step
    assert torch.equal(steps[1.0][1], steps[0.5][1])
    assert torch.allclose(steps[0.5][0], 0.5 * steps[1.0][0], rtol=1e-9, atol=1e-15)


def test_parameter_groups_take_their_own_lr():
    x, y = classification(32, 4, 3, 12)
    model = mlp([4, 6, 3], 12)
    first, second = model[0], model[2]
    opt = kt.NGD(model, lr=1.0, param_groups=[
        {"params": first.parameters()}, {"params": second.parameters(), "lr": 0.0}])
    before = [p.detach().clone() for p in second.parameters()]
    theta = [p.detach().clone() for p in first.parameters()]
    opt.step(make_closure(opt, model, x, y))
    assert all(torch.equal(a, b) for a, b in zip(before, second.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(theta, first.parameters()))
    with pytest.raises(ValueError, match="damping is one value for the whole model"):
        kt.NGD(model, lr=1.0, param_groups=[{"params": first.parameters(), "damping": 0.1},
                                            {"params": second.parameters()}])


# -- errors -----------------------------------------------------------------------------------

def test_passing_parameters_instead_of_the_model_is_a_type_error():
    model = mlp([4, 6, 3], 13)
    with pytest.raises(TypeError, match=r"TNGD\(model, device=\.\.\., lr=\.\.\.\)"):
        kt.TNGD(model.parameters(), BOARD, lr=0.1)
    with pytest.raises(TypeError, match=r"NGD\(model, lr=\.\.\.\)"):
        kt.NGD(list(model.parameters()), lr=0.1)


def test_bad_input_is_refused_with_a_clear_message():
    model = mlp([4, 6, 3], 14)
    x, y = classification(16, 4, 3, 14)
    with pytest.raises(ValueError, match="curvature='hessian' is not one of"):
        kt.TNGD(model, BOARD, lr=0.1, curvature="hessian")
    with pytest.raises(ValueError, match="loss='hinge' is not one of"):
        kt.NGD(model, lr=0.1, loss="hinge")
    with pytest.raises(kelvin.InvalidArgumentError, match="repeats"):
        kt.TNGD(model, BOARD, lr=0.1, repeats=1)    # the estimator's own check, at construction
    with pytest.raises(ValueError, match="not a parameter of the model"):
        kt.NGD(model, lr=0.1, param_groups=[{"params": [torch.nn.Parameter(torch.zeros(2))]}])
    opt = kt.TNGD(model, BOARD, lr=0.1)
    theta = flat(model)

    def nan_closure():
        opt.zero_grad()
        value = F.cross_entropy(model(x), y) * float("nan")
        value.backward()
        return value
    with pytest.raises(ValueError, match="loss is nan"):
        opt.step(nan_closure)
    with pytest.raises(ValueError, match="needs a closure"):
        opt.step()
    assert torch.equal(theta, flat(model)) and opt.last_step is None
    big = mlp([6, 8, 3], 14)
    opt_big = kt.TNGD(big, BOARD, lr=0.1, curvature_batch=30)
    with pytest.raises(ValueError, match=r"curvature_batch=30 gives 90 curvature rows"):
        opt_big.step(make_closure(opt_big, big, *classification(32, 6, 3, 14)))
    for o in (opt, opt_big):
        o.close()


def test_seed_and_uri_helpers():
    assert with_params("sim:resonator?cells=8&seed=1", seed=7, serial="S") == \
        "sim:resonator?cells=8&seed=7&serial=S"
    assert split_uri("sim:resonator") == ("sim:resonator", {})
    seeds = {mix(s, k) for s in range(4) for k in range(4)}
    assert len(seeds) == 16 and all(0 <= v < 2 ** 64 for v in seeds)


def test_hooks_go_with_the_optimizer():
    import gc
    model = mlp([4, 6, 3], 16)
    counts = lambda: sum(len(m._forward_hooks) for m in model.modules())
    opt = kt.NGD(model, lr=0.1)
    assert counts() == 3                  # the model and its two nn.Linear layers
    opt.close()
    assert counts() == 0
    kt.NGD(model, lr=0.1)                 # dropped without close()
    gc.collect()
    assert counts() == 0
