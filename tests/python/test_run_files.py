"""Run files (docs/run-files.md) read back with h5py alone: this module never imports kelvin, as
a lab's analysis script would not. The kelvin CLI of the same build writes them (KELVIN_CLI)."""

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

URI = "sim:resonator?cells=4&seed=7"
PBIT_URI = "sim:pbit?rows=4&cols=4&degree=8&seed=3"


@pytest.fixture(scope="module")
def cli(kelvin_cli_path):
    """The kelvin CLI (conftest.py; these tests read its files without importing kelvin)."""
    return kelvin_cli_path


def run_json(cli, *args):
    out = subprocess.run([cli, *map(str, args), "--json"], check=True, capture_output=True,
                         text=True, timeout=120)
    return json.loads(out.stdout)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check_common(f, command, uri, summary):
    """The root attributes every run file has, and its summary_json equal to --json's output."""
    a = f.attrs
    assert text(a["format"]) == "kelvin run file"
    assert int(a["format_version"]) == 1
    assert text(a["command"]) == command
    assert text(a["uri"]) == uri
    assert text(a["kelvin_version"]).count(".") == 2
    assert text(a["git_revision"]) != ""
    assert int(a["protocol_version"]) >= 6
    assert f" {command} " in text(a["command_line"])
    # The calibration the job applied, as its summary says ("none" without one).
    applied = summary.get("calibration", summary.get("summary", {}).get("calibration", "none"))
    assert text(a["calibration_id"]) == applied
    assert int(a["complete"]) == 1
    assert "error" not in a
    assert json.loads(text(a["summary_json"])) == summary
    description = json.loads(text(f["board"].attrs["description_json"]))
    assert description["uri"] == uri
    assert text(f["board"].attrs["serial"]) == description["serial"]
    assert text(a["firmware_version"]) == description["firmware_version"]


def test_stream_run_file_holds_every_received_sample_with_its_frames(cli, tmp_path):
    path = tmp_path / "stream.h5"
    summary = run_json(cli, "stream", "--uri", URI, "--duration", "0.3", "-o", path)
    with h5py.File(path, "r") as f:
        check_common(f, "stream", URI, summary)
        assert json.loads(text(f.attrs["seeds"])) == {"seed": 7}
        codes = f["data/codes"]
        assert codes.dtype == np.int16
        assert codes.shape == (summary["received"], 4)
        frames = f["data/frames"][...]
        assert frames.shape[1] == 4
        assert frames[:, 2].sum() == summary["received"]
        # Each frame starts where the one before ended, in rows and (plus any loss) in sequence.
        assert frames[0, 0] == 0
        np.testing.assert_array_equal(frames[1:, 0], frames[:-1, 0] + frames[:-1, 2])
        np.testing.assert_array_equal(frames[1:, 1],
                                      frames[:-1, 1] + frames[:-1, 2] + frames[1:, 3])
        assert json.loads(text(codes.attrs["adc"]))["lsb"] > 0
        settings = f["settings"]
        assert int(settings.attrs["diagonal_code"]) == 9830
        couplings = settings["coupling_codes"][...]
        np.testing.assert_array_equal(couplings, np.diag([9830] * 4))
        np.testing.assert_array_equal(settings["bias_codes"][...], [0, 0, 0, 0])
        assert np.std(codes[...]) > 0  # noise, not a file of zeros


def test_solve_run_file_holds_the_system_and_the_solution(cli, tmp_path):
    a = np.array([[4.0, -1.0, 0.5], [-1.0, 4.0, -1.0], [0.5, -1.0, 4.0]])
    b = np.array([1.0, -0.5, 0.25])
    np.savetxt(tmp_path / "A.txt", a)
    np.savetxt(tmp_path / "b.txt", b)
    path = tmp_path / "solve.h5"
    summary = run_json(cli, "solve", "--uri", URI, "--matrix", tmp_path / "A.txt", "--rhs",
                       tmp_path / "b.txt", "--batches", 4, "-o", path)
    with h5py.File(path, "r") as f:
        check_common(f, "solve", URI, summary)
        np.testing.assert_array_equal(f["data/A"][...], a)
        np.testing.assert_array_equal(f["data/b"][...], b)
        np.testing.assert_array_equal(f["data/x"][...], summary["x"])
        np.testing.assert_array_equal(f["data/stderr"][...], summary["stderr"])
        assert int(f["settings"].attrs["batches"]) == 4


def test_natgrad_run_file_holds_the_estimate(cli, tmp_path):
    fisher = np.array([[2.0, 0.3], [0.3, 1.5]])
    grad = np.array([1.0, -1.0])
    np.savetxt(tmp_path / "F.txt", fisher)
    np.savetxt(tmp_path / "g.txt", grad)
    path = tmp_path / "natgrad.h5"
    summary = run_json(cli, "natgrad", "--uri", URI, "--fisher", tmp_path / "F.txt", "--grad",
                       tmp_path / "g.txt", "-o", path)
    with h5py.File(path, "r") as f:
        check_common(f, "natgrad", URI, summary)
        np.testing.assert_array_equal(f["data/F"][...], fisher)
        np.testing.assert_array_equal(f["data/estimate"][...], summary["estimate"])
        np.testing.assert_array_equal(f["data/stderr"][...], summary["stderr"])


def test_sample_run_file_holds_the_model_and_the_means(cli, tmp_path):
    model = {"nodes": 4, "edges": [[0, 1, 2], [1, 2, -1], [2, 3, 1]], "bias": [1, 0, 0, -1]}
    (tmp_path / "model.json").write_text(json.dumps(model))
    path = tmp_path / "sample.h5"
    summary = run_json(cli, "sample", "--uri", PBIT_URI, "--model", tmp_path / "model.json",
                       "--sweeps", 200, "--chains", 2, "-o", path)
    with h5py.File(path, "r") as f:
        check_common(f, "sample", PBIT_URI, summary)
        np.testing.assert_array_equal(f["data/edges"][...], model["edges"])
        np.testing.assert_array_equal(f["data/bias"][...], model["bias"])
        np.testing.assert_array_equal(f["data/mean"][...], summary["mean"])
        np.testing.assert_array_equal(f["data/edge_correlations"][...],
                                      [c for _, _, c in summary["edge_correlations"]])


def test_run_file_is_read_by_a_python_without_kelvin(cli, tmp_path):
    path = tmp_path / "plain.h5"
    run_json(cli, "stream", "--uri", URI, "--duration", "0.1", "-o", path)
    script = ("import sys, h5py\n"
              f"f = h5py.File({str(path)!r}, 'r')\n"
              "print(f['data/codes'].shape[1], f.attrs['command'])\n"
              "assert not any(m.startswith('kelvin') for m in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-I", "-c", script], check=True, capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.stdout.split() == ["4", "stream"]


def test_run_file_is_never_overwritten_and_needs_the_h5_name(cli, tmp_path):
    path = tmp_path / "taken.h5"
    path.write_bytes(b"keep me")
    out = subprocess.run([cli, "stream", "--uri", URI, "--duration", "0.1", "-o", path],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert str(path) in out.stderr and "exists" in out.stderr
    assert path.read_bytes() == b"keep me"
    out = subprocess.run([cli, "solve", "--matrix", "A", "--rhs", "b", "-o",
                          tmp_path / "x.txt"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert ".h5" in out.stderr


def test_sweep_run_file_holds_every_point_and_every_write(cli, tmp_path):
    path = tmp_path / "sweep.h5"
    summary = run_json(cli, "sweep", "--uri", URI, "--set", "bias:0", "--from", "0", "--to",
                       "0.2", "--points", "3", "--samples", "2000", "--batches", "4",
                       "--settle", "100", "-o", path)
    with h5py.File(path, "r") as f:
        check_common(f, "sweep", URI, summary)
        data = f["data"]
        assert data["set_values"].shape == (3, 1)
        np.testing.assert_allclose(data["set_values"][:, 0],
                                   [p["set_value_1"] for p in summary["points"]])
        assert data["mean"].shape == (3, 4)
        np.testing.assert_allclose(data["mean"][...], [p["mean"] for p in summary["points"]])
        assert data["applied_codes"].shape == (len(summary["applied"]),)
        np.testing.assert_array_equal(data["applied_codes"][...],
                                      [w["code"] for w in summary["applied"]])


def test_selftest_run_file_holds_one_row_per_check(cli, tmp_path):
    path = tmp_path / "selftest.h5"
    summary = run_json(cli, "selftest", "--uri", URI, "-o", path)
    with h5py.File(path, "r") as f:
        check_common(f, "selftest", URI, summary)
        checks = summary["check_results"]
        outcome = f["data/outcome"][...]
        assert outcome.shape == (len(checks),)
        assert list(outcome) == [{"pass": 0, "fail": 1, "skip": 2}[c["outcome"]] for c in checks]
        measured = f["data/measured"][...]
        for value, check in zip(measured, checks):
            if check["measured"] is None:
                assert np.isnan(value)
            else:
                assert value == pytest.approx(check["measured"])


def test_calibrate_run_file_holds_every_measured_value(cli, tmp_path):
    path = tmp_path / "calibrate.h5"
    env = dict(os.environ, KELVIN_CALIBRATION_DIR=str(tmp_path / "cal"))
    out = subprocess.run([cli, "calibrate", "--uri", URI, "--mean-samples", "16384",
                          "--drift-samples", "16384", "-o", str(path), "--json"], check=True,
                         capture_output=True, text=True, timeout=120, env=env)
    result = json.loads(out.stdout)
    calibration = result["calibration"]
    with h5py.File(path, "r") as f:
        assert text(f.attrs["calibration_id"]) == calibration["calibration_id"]
        assert json.loads(text(f.attrs["summary_json"])) == result
        data = f["data"]
        assert data["adc_offset_codes"].shape == (4,)
        assert data["drift"].shape == (4, 4)
        assert (data["adc_offset_codes_stderr"][...] > 0).all()
    assert (tmp_path / "cal" / (calibration["serial"] + ".json")).exists()
