"""Smoke test of python/examples/fashion_mnist.py: every optimizer for 3 steps on 500 test images
through the example's own main(), then the JSON's fields, finite numbers and plots. Skipped when
Debian's dataset-fashion-mnist is not installed (the example never downloads)."""

import json
import math
import os
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python", "examples"))

import fashion_data  # noqa: E402
import fashion_mnist  # noqa: E402

MISSING = fashion_data.missing_files()
needs_data = pytest.mark.skipif(
    bool(MISSING), reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); "
    "missing " + ", ".join(MISSING))

STEP_SERIES = ("step", "loss", "accuracy", "wall_time_s", "device_time_s", "energy_j",
               "host_time_s", "host_energy_j")
TOTALS = ("test_accuracy", "test_loss", "wall_time_s", "device_time_s", "energy_j",
          "host_time_s", "host_energy_j")


def finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@needs_data
def test_three_steps_per_optimizer_write_the_json_and_the_plots(tmp_path, capsys):
    start = time.perf_counter()
    code = fashion_mnist.main(["--steps", "3", "--test-examples", "500", "--eval-every", "2",
                               "--out-dir", str(tmp_path)])
    elapsed = time.perf_counter() - start
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    with open(tmp_path / "results.json") as f:
        results = json.load(f)

    s = results["settings"]
    assert s["steps"] == 3 and s["test_examples"] == 500 and s["parameters"] >= 10_000
    assert s["optimizers"] == list(fashion_mnist.OPTIMIZERS)
    assert set(results["optimizers"]) == set(fashion_mnist.OPTIMIZERS)
    first_losses = set()
    for name, r in results["optimizers"].items():
        assert r["steps_run"] == 3 and r["diverged_at_step"] is None, name
        for key in STEP_SERIES:
            series = r["steps"][key]
            assert len(series) == 3 and all(finite(v) for v in series), (name, key, series)
        for key in ("wall_time_s", "device_time_s", "energy_j"):   # cumulative
            assert all(b >= a for a, b in zip(r["steps"][key], r["steps"][key][1:])), (name, key)
        assert r["evaluations"]["step"] == [2, 3]
        assert all(0 <= a <= 1 for a in r["evaluations"]["test_accuracy"])
        assert len(r["epochs"]) == 1 and not r["epochs"][0]["complete"]
        for key in TOTALS:
            assert finite(r[key]), (name, key)
        for key, value in summary["optimizers"][name].items():
            assert value == r[key], (name, key)
        # same initial weights and the same first batch: the same first loss, bit for bit
        first_losses.add(r["steps"]["loss"][0])
    assert len(first_losses) == 1, first_losses
    tngd, ngd = results["optimizers"]["tngd"], results["optimizers"]["ngd"]
    assert tngd["device_time_s"] > 0 and tngd["energy_j"] > 0 and tngd["method"] == "row space"
    assert ngd["device_time_s"] == 0
    assert tngd["hyperparameters"]["curvature_batch"] == ngd["hyperparameters"]["curvature_batch"]
    for name in ("loss_vs_step", "loss_vs_wall_time", "loss_vs_device_time", "comparison"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000, name
    print(f"the smoke run took {elapsed:.1f} s")  # ctest's timeout bounds it; no timed assertion


def test_missing_dataset_names_the_debian_package(tmp_path, capsys):
    code = fashion_mnist.main(["--data-dir", str(tmp_path), "--optimizers", "sgd",
                               "--out-dir", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "apt-get install dataset-fashion-mnist" in err
    assert "train-images-idx3-ubyte.gz" in err
    assert not (tmp_path / "out").exists()
