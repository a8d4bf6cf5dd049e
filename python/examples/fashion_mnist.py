#!/usr/bin/python3
"""Fashion-MNIST: SGD, Adam, exact NGD and TNGD on the same network, the same initial weights
and the same batches in the same order.

    PYTHONPATH=build/python /usr/bin/python3 python/examples/fashion_mnist.py [--quick]

Reads Debian's dataset-fashion-mnist files (never downloads; fashion_data.py), trains a
784-16-10 ReLU MLP (12,730 parameters) with torch.optim.SGD, torch.optim.Adam,
kelvin.torch.NGD (exact, digital, float64) and kelvin.torch.TNGD (the emulated resonator board,
--device), and writes results.json and PNG plots into --out-dir. The summary (per optimizer:
test accuracy, wall time, modelled device time, energy) goes to stdout as JSON; progress goes
to stderr. docs/python.md shows a measured run. Under torchrun (--nproc_per_node=W) it trains
data parallel with the same global batches and steps, one board per rank (fashion_distributed.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_data  # noqa: E402
import fashion_distributed as fd  # noqa: E402

OPTIMIZERS = ("sgd", "adam", "ngd", "tngd")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The full run and --quick (the same settings otherwise). Hyperparameters: docs/python.md says
# what was tried.
FULL = {"epochs": 5, "max_steps": None, "eval_every": 25}
QUICK = {"epochs": 1, "max_steps": 200, "eval_every": 10}
DEFAULTS = {
    "hidden": 16, "batch_size": 128, "seed": 1, "test_examples": 10000,
    "sgd_lr": 0.1, "adam_lr": 3e-3,
    "ngd_lr": 0.01, "damping": 0.1, "curvature_batch": None,
    "tngd_lr": 0.01, "device": "sim:resonator?cells=64&seed=1", "t": 50.0,
    "transient_tolerance": None, "repeats": 4,
}
# kelvin's energy ledger charges host work at 100 pJ per FLOP (docs/energy.md).
HOST_JOULES_PER_FLOP = 100e-12
REACH_LEVELS = (0.75, 0.80, 0.85)
ARGUMENTS = (("batch_size", int, "examples per step"), ("seed", int, "weights, batches, TNGD"),
             ("hidden", int, "hidden units"), ("repeats", int, "TNGD reads per step"),
             ("sgd_lr", float, "SGD's rate"), ("adam_lr", float, "Adam's rate"),
             ("ngd_lr", float, "NGD's rate"), ("tngd_lr", float, "TNGD's rate"),
             ("damping", float, "NGD's and TNGD's"), ("t", float, "TNGD's analog time, us"))


def build_model(hidden: int, seed: int) -> torch.nn.Module:
    """784-hidden-10 with ReLU, PyTorch's default initialization drawn from `seed`."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, 10))


def import_kelvin_torch():
    """kelvin.torch, from PYTHONPATH or else from the build tree beside this checkout."""
    try:
        import kelvin.torch as kt
        return kt
    except ImportError as first:
        build = os.path.join(ROOT, "build", "python")
        if os.path.isdir(build) and build not in sys.path:
            sys.path.insert(0, build)
            try:
                import kelvin.torch as kt
                return kt
            except ImportError:
                pass
        raise SystemExit(f"kelvin.torch is not importable ({first}); build the Python module "
                         "and run with PYTHONPATH=build/python, or pass --optimizers sgd,adam")


def board_cells(device: str) -> int:
    """The cells of the board at `device` (opened and closed again)."""
    import_kelvin_torch()
    import kelvin
    board = kelvin.open(device)
    try:
        return int(board.cells)
    finally:
        board.close()


def make_optimizer(name: str, model: torch.nn.Module, s: dict):
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=s["sgd_lr"])
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=s["adam_lr"])
    kt = import_kelvin_torch()
    if name == "ngd":
        return kt.NGD(model, lr=s["ngd_lr"], damping=s["damping"], curvature="ggn",
                      curvature_batch=fd.local_curvature_batch(s))
    if name == "tngd":
        return kt.TNGD(model, device=s["device"], lr=s["tngd_lr"], damping=s["damping"],
                       t=s["t"], transient_tolerance=s["transient_tolerance"], curvature="ggn",
                       curvature_batch=fd.local_curvature_batch(s), loss="cross_entropy",
                       repeats=s["repeats"], seed=s["seed"])
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


@torch.no_grad()
def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over (x, y), in chunks of 2,500."""
    loss, correct = 0.0, 0
    for i in range(0, x.shape[0], 2500):
        out = model(x[i:i + 2500])
        loss += F.cross_entropy(out, y[i:i + 2500], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + 2500]).sum().item()
    return loss / x.shape[0], correct / x.shape[0]


def train_one(name: str, s: dict, data: dict, batches: list, init_state: dict, log) -> dict:
    """Trains one optimizer over `batches`; returns its record for results.json. Wall time is
    the time in opt.step (forward, backward, the optimizer's work; the emulated board's
    integration too for TNGD), not the evaluations."""
    model = build_model(s["hidden"], s["seed"])
    model.load_state_dict(init_state)
    model = fd.wrap(model, s)   # DistributedDataParallel under torchrun
    opt = make_optimizer(name, model, s)
    steps = {"step": [], "loss": [], "accuracy": [], "wall_time_s": [], "device_time_s": [],
             "energy_j": [], "host_time_s": [], "host_energy_j": [], "modelled_time_s": []}
    evals = {"step": [], "test_loss": [], "test_accuracy": []}
    epochs = []
    per_epoch = s["steps_per_epoch"]
    wall = device = energy = host = host_flops = 0.0
    # SGD and Adam report no ledger: their host FLOPs as kelvin.torch counts them (forward 2 and
    # backward 4 per parameter and example, the update 2 per parameter, Adam's moments 10 more).
    n_params = sum(p.numel() for p in model.parameters())
    digital_flops = 6.0 * n_params * s["batch_size"] + (12.0 if name == "adam" else 2.0) * n_params
    warnings: list[str] = []   # the first 3
    warned_steps = 0
    breakdown: dict = {}
    diverged = None
    epoch_loss = epoch_correct = epoch_seen = 0.0
    for k, idx in enumerate(batches, start=1):
        mine = fd.local_batch(idx, s)   # this rank's slice (all of it in one process)
        xb, yb = data["x_train"][mine], data["y_train"][mine]
        seen = {}

        def closure():
            opt.zero_grad()
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            loss.backward()
            seen.setdefault("loss", loss.item())
            seen.setdefault("correct", (out.argmax(1) == yb).sum().item())
            return loss

        start = time.perf_counter()
        try:
            opt.step(closure)
        except ValueError as e:
            # NGD and TNGD refuse a step with a non-finite loss: the run has diverged (under
            # torchrun another rank's loss: this rank's gradient, averaged by DDP, is non-finite)
            peer = s["world_size"] > 1 and "non-finite" in str(e)
            if math.isfinite(seen.get("loss", 0.0)) and not peer:
                raise
            diverged = k
            log(f"  {name}: non-finite loss at step {k}; stopped")
            break
        elapsed = time.perf_counter() - start
        seen = fd.global_seen(seen, len(mine), s)
        wall += elapsed
        last = getattr(opt, "last_step", None) or {}
        device += float(last.get("device_time_s", 0.0))
        energy += float(last.get("energy_j", 0.0))
        host += float(last.get("host_time_s", elapsed))
        host_flops += float(last.get("host_flops", digital_flops))
        step_warnings = list(last.get("warnings", []) or [])
        warned_steps += bool(step_warnings)
        warnings.extend(step_warnings[:max(0, 3 - len(warnings))])
        add_energy_breakdown(breakdown, opt)
        for key, value in (("step", k), ("loss", seen["loss"]), ("wall_time_s", wall),
                           ("accuracy", seen["correct"] / len(idx)), ("device_time_s", device),
                           ("energy_j", energy), ("host_time_s", host),
                           ("host_energy_j", host_flops * HOST_JOULES_PER_FLOP),
                           ("modelled_time_s", host + device)):
            steps[key].append(value)
        epoch_loss += seen["loss"] * len(idx)
        epoch_correct += seen["correct"]
        epoch_seen += len(idx)
        finite = math.isfinite(seen["loss"]) and all(
            torch.isfinite(p).all().item() for p in model.parameters())
        if not finite:
            diverged = k
        if k % s["eval_every"] == 0 or k == len(batches) or k % per_epoch == 0 or diverged:
            test_loss, test_acc = evaluate(model, data["x_test"], data["y_test"])
            evals["step"].append(k)
            evals["test_loss"].append(test_loss)
            evals["test_accuracy"].append(test_acc)
            if k % (s["eval_every"] * 4) == 0 or k == len(batches):
                log(f"  {name:5s} step {k:5d}: batch loss {seen['loss']:.4f}, test accuracy "
                    f"{100 * test_acc:.2f}%, wall {wall:.1f} s, device {device * 1e3:.2f} ms")
        if k % per_epoch == 0 or k == len(batches) or diverged:
            epochs.append({"epoch": math.ceil(k / per_epoch), "steps": k,
                           "complete": k % per_epoch == 0,
                           "train_loss": epoch_loss / epoch_seen,
                           "train_accuracy": epoch_correct / epoch_seen,
                           "test_loss": evals["test_loss"][-1],
                           "test_accuracy": evals["test_accuracy"][-1], "wall_time_s": wall})
            epoch_loss = epoch_correct = epoch_seen = 0.0
        if diverged:
            log(f"  {name}: non-finite loss or weights at step {k}; stopped")
            break
    test_loss, test_acc = evaluate(model, data["x_test"], data["y_test"])
    totals = dict(getattr(opt, "totals", None) or {})
    record = {
        "hyperparameters": hyperparameters(name, s), "steps": steps, "evaluations": evals,
        "epochs": epochs, "test_accuracy": test_acc, "test_loss": test_loss,
        "wall_time_s": wall, "device_time_s": device, "energy_j": energy, "host_time_s": host,
        "host_flops": host_flops, "host_energy_j": host_flops * HOST_JOULES_PER_FLOP,
        "total_energy_j": energy + host_flops * HOST_JOULES_PER_FLOP,
        "first_reached": first_reached(evals, steps),
        "steps_run": len(steps["step"]), "diverged_at_step": diverged, "warnings": warnings,
        "steps_with_warnings": warned_steps, "board_energy_breakdown": breakdown,
        "totals": {k: v for k, v in totals.items() if isinstance(v, (int, float, str))},
    }
    if name in ("ngd", "tngd"):
        record["method"] = (getattr(opt, "last_step", None) or {}).get("method")
    return record


def add_energy_breakdown(total: dict, opt) -> None:
    """Adds the board job's energy ledger by component (TNGD's last_result.summary.energy:
    analog, DAC, ADC, I/O, the estimator's host FLOPs, the GPU comparison) to `total`."""
    result = getattr(opt, "last_result", None)
    energy = getattr(getattr(result, "summary", None), "energy", None)
    if energy is None or not hasattr(energy, "to_dict"):
        return
    for key, value in energy.to_dict().items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total[key] = total.get(key, 0.0) + value


def first_reached(evals: dict, steps: dict) -> dict:
    """For test accuracies 0.75, 0.80 and 0.85: the first evaluation at or above it (step, wall
    time, modelled device time, host + device time), or None."""
    out = {}
    for level in REACH_LEVELS:
        hit = next((k for k, a in zip(evals["step"], evals["test_accuracy"]) if a >= level), None)
        out[f"{level:.2f}"] = None if hit is None else {
            key: steps[key][hit - 1] for key in ("step", "wall_time_s", "device_time_s",
                                                 "modelled_time_s")}
    return out


def hyperparameters(name: str, s: dict) -> dict:
    if name == "sgd":
        return {"lr": s["sgd_lr"], "momentum": 0.0}
    if name == "adam":
        return {"lr": s["adam_lr"], "betas": [0.9, 0.999]}
    common = {"damping": s["damping"], "curvature": "ggn", "curvature_batch": s["curvature_batch"]}
    if name == "ngd":
        return {"lr": s["ngd_lr"], **common}
    return {"lr": s["tngd_lr"], **common, "device": s["device"], "t": s["t"],
            "transient_tolerance": s["transient_tolerance"], "repeats": s["repeats"],
            "seed": s["seed"]}


def load_data(data_dir: str, test_examples: int) -> dict:
    """fashion_data.features() as torch tensors (float32 features, int64 labels)."""
    d = fashion_data.features(data_dir, test_examples)
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in d.items()}


def run(settings: dict, optimizers=OPTIMIZERS, log=None) -> dict:
    """The comparison: every optimizer in `optimizers` from the same initial weights over the
    same batches. `settings` overrides DEFAULTS and FULL (keys of both, plus data_dir). Returns
    the results dict that main() writes as results.json."""
    s = {**DEFAULTS, **FULL, "data_dir": fashion_data.DEFAULT_DIR, "mode": "full",
         "world_size": 1, "rank": 0, **settings}
    if s["rank"] != 0:
        log = lambda msg: None  # noqa: E731 - rank 0 logs
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    threads = max(1, min(2, torch.get_num_threads()) // s["world_size"])   # W ranks share
    torch.set_num_threads(threads)
    data = load_data(s["data_dir"], s["test_examples"])
    n_train = data["x_train"].shape[0]
    s["steps_per_epoch"] = n_train // s["batch_size"]
    s["test_examples"] = int(data["x_test"].shape[0])
    batches = fashion_data.batch_schedule(n_train, s["batch_size"], s["epochs"], s["seed"],
                                          s["max_steps"])
    if s["curvature_batch"] is None and {"ngd", "tngd"} & set(optimizers):
        # What TNGD's board holds: with N above the cells it relaxes the curvature's row space,
        # 10 rows (classes) per sample, so floor(cells / 10) samples; NGD gets the same factors.
        s["curvature_batch"] = board_cells(s["device"]) // 10
    model = build_model(s["hidden"], s["seed"])
    init_state = {k: v.clone() for k, v in model.state_dict().items()}
    parameters = sum(p.numel() for p in model.parameters())
    s["title"] = (f"Fashion-MNIST, MLP 784-{s['hidden']}-10 ({parameters:,} parameters), "
                  f"batch {s['batch_size']}, {len(batches)} steps")
    if s["world_size"] > 1:
        s["title"] += f", {s['world_size']} ranks"
    results = {"settings": {**s, "parameters": parameters, "steps": len(batches),
                            "optimizers": list(optimizers), "train_examples": n_train,
                            "feature_mean": data["mean"], "feature_std": data["std"],
                            "torch_threads": threads, "torch": torch.__version__,
                            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                            "date": datetime.datetime.now().isoformat(timespec="seconds"),
                            "wall_time_covers": "opt.step(closure) only, not evaluations",
                            "test_accuracy_every_steps": s["eval_every"]},
               "optimizers": {}}
    for name in optimizers:
        log(f"{name}: {len(batches)} steps")
        results["optimizers"][name] = train_one(name, s, data, batches, init_state, log)
    return results


def summary(results: dict) -> dict:
    out = {"steps": results["settings"]["steps"], "test_examples":
           results["settings"]["test_examples"], "optimizers": {}}
    for name, r in results["optimizers"].items():
        out["optimizers"][name] = {k: r[k] for k in ("test_accuracy", "wall_time_s",
                                                     "device_time_s", "energy_j",
                                                     "host_time_s", "host_energy_j",
                                                     "total_energy_j")}
    return out


def finite_or_null(value):
    """`value` with NaN and infinities (a diverged run's loss) replaced by None: strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    return value


@contextlib.contextmanager
def c_stdout_to_stderr():
    """Points file descriptor 1 at stderr while the body runs: kelvin's C++ library logs to
    stdout (warnings; every board opened at kelvin.set_log_level("info")), which must hold only
    the JSON summary."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK['max_steps']} steps per optimizer (full test set)")
    p.add_argument("--out-dir", default="fashion-mnist-run", help="results.json and plots")
    p.add_argument("--data-dir", default=fashion_data.DEFAULT_DIR, help="the four IDX .gz files")
    p.add_argument("--optimizers", default=",".join(OPTIMIZERS), help="comma-separated")
    p.add_argument("--device", default=DEFAULTS["device"], help="the board's URI, for TNGD")
    p.add_argument("--epochs", type=int, help=f"{FULL['epochs']} ({QUICK['epochs']} with --quick)")
    p.add_argument("--steps", type=int, help="stop after this many steps")
    p.add_argument("--eval-every", type=int, help="test accuracy every this many steps: "
                   f"{FULL['eval_every']} ({QUICK['eval_every']} with --quick)")
    p.add_argument("--test-examples", type=int, default=DEFAULTS["test_examples"],
                   help="the first N test images (all: 10000)")
    for key, kind, text in ARGUMENTS:
        p.add_argument("--" + key.replace("_", "-"), type=kind, default=DEFAULTS[key], help=text)
    p.add_argument("--transient-tolerance", type=float, help="TNGD runs to the natural gradient")
    p.add_argument("--curvature-batch", type=int,
                   help="curvature samples per batch; None: the board's cells // 10")
    p.add_argument("--no-plots", action="store_true", help="only results.json")
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    settings = dict(QUICK if a.quick else FULL, mode="quick" if a.quick else "full")
    for key in ("device", "test_examples", "batch_size", "seed", "hidden", "repeats", "sgd_lr",
                "adam_lr", "ngd_lr", "tngd_lr", "damping", "t", "transient_tolerance",
                "curvature_batch", "data_dir"):
        settings[key] = getattr(a, key)
    for key, arg in (("epochs", a.epochs), ("max_steps", a.steps), ("eval_every", a.eval_every)):
        if arg is not None:
            settings[key] = arg
    names = [n.strip() for n in a.optimizers.split(",") if n.strip()]
    bad = [n for n in names if n not in OPTIMIZERS]
    if bad:
        raise SystemExit(f"unknown optimizer(s) {bad}; choose from {', '.join(OPTIMIZERS)}")
    fd.setup(settings)   # torchrun: the gloo process group, world_size and rank
    try:
        with c_stdout_to_stderr():
            results = run(settings, names)
    except fashion_data.DatasetMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        fd.finish()
    if settings["rank"] != 0:   # rank 0 writes the results
        return 0
    os.makedirs(a.out_dir, exist_ok=True)
    path = os.path.join(a.out_dir, "results.json")
    with open(path, "w") as f:
        json.dump(finite_or_null(results), f, indent=1)
    print(f"wrote {path}", file=sys.stderr)
    if not a.no_plots:
        import fashion_plots
        for p in fashion_plots.write_plots(results, a.out_dir):
            print(f"wrote {p}", file=sys.stderr)
    print(json.dumps(finite_or_null(summary(results)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
