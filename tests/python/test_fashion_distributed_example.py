"""python/examples/fashion_mnist.py as torchrun runs it: two gloo ranks (forked, with torchrun's
environment variables) train NGD and TNGD for 2 steps through the example's own main(), and rank
0's results are compared with one process on the same global batches. Skipped when Debian's
dataset-fashion-mnist is not installed."""

import json
import os
import socket
import sys

import pytest
import torch.multiprocessing as mp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python", "examples"))

import fashion_data  # noqa: E402
import fashion_distributed  # noqa: E402
import fashion_mnist  # noqa: E402

MISSING = fashion_data.missing_files()
needs_data = pytest.mark.skipif(
    bool(MISSING), reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); "
    "missing " + ", ".join(MISSING))
# Global batches of 6, the whole global curvature batch (64 cells // 10 classes): each rank's
# curvature samples are its whole slice, so both runs take the curvature of the same 6 samples.
ARGS = ["--optimizers", "ngd,tngd", "--steps", "2", "--batch-size", "6", "--test-examples", "200",
        "--eval-every", "1", "--no-plots"]


def rank_main(rank, port, out):
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    code = fashion_mnist.main(ARGS + ["--out-dir", out])
    if code != 0:
        raise SystemExit(code)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_rank_takes_its_slice_of_the_global_batch():
    s = {"world_size": 4, "rank": 2, "curvature_batch": 6}
    assert list(fashion_distributed.local_batch(list(range(8)), s)) == [4, 5]
    assert fashion_distributed.local_curvature_batch(s) == 1
    assert fashion_distributed.local_batch([1, 2], {}) == [1, 2]


@needs_data
def test_two_ranks_train_on_the_one_process_batches(tmp_path, capsys):
    two = str(tmp_path / "two")
    mp.start_processes(rank_main, args=(free_port(), two), nprocs=2, start_method="fork")
    assert fashion_mnist.main(ARGS + ["--out-dir", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    with open(os.path.join(two, "results.json")) as f:
        dist = json.load(f)
    with open(tmp_path / "one" / "results.json") as f:
        one = json.load(f)
    assert dist["settings"]["world_size"] == 2 and one["settings"]["world_size"] == 1
    assert dist["settings"]["steps"] == one["settings"]["steps"] == 2
    for name in ("ngd", "tngd"):
        d, o = dist["optimizers"][name], one["optimizers"][name]
        # the same initial weights and global batch: the first step's global batch loss is the
        # one-process loss up to float32 rounding of the two halves' means
        assert d["steps"]["loss"][0] == pytest.approx(o["steps"]["loss"][0], rel=1e-5), name
        assert d["totals"]["communication_bytes"] > 0 and o["totals"]["communication_bytes"] == 0
        assert d["steps_run"] == 2 and d["diverged_at_step"] is None
    # NGD: the gathered rows are the global curvature batch's (the same 6 samples: 3 per rank),
    # so the first update, and the test loss after it, match one process (float32 model; a
    # curvature of other samples moves the test loss by about 1%)
    ngd_d, ngd_o = dist["optimizers"]["ngd"], one["optimizers"]["ngd"]
    assert ngd_d["hyperparameters"]["curvature_batch"] == 6
    assert ngd_d["evaluations"]["test_loss"][0] == pytest.approx(
        ngd_o["evaluations"]["test_loss"][0], rel=1e-4)
