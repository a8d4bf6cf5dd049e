"""kelvin.generate_quartic (contract D of issue 17): a checkpoint as a dict or a file gives the
same generation on the same board and seed; images, heat and trajectories have their shapes; bad
checkpoints name the field."""

import json

import numpy as np
import pytest

import kelvin

URI = "sim:resonator?cells=4&seed=7"


def double_wells(cells=4, noise_code=1311):
    """Independent wells V = -x^2/2 + x^4 (minima at +-0.5 V), every cell visible, 2 x 2."""
    return {
        "kind": "kelvin.quartic-generator", "version": 1, "cells": cells,
        "coupling_codes": (-16384 * np.eye(cells, dtype=np.int64)).tolist(),
        "bias_codes": [0] * cells, "quartic_codes": [4096] * cells,
        "noise_code": noise_code, "visible": list(range(cells)),
        "image_rows": 2, "image_cols": cells // 2,
        "uncoupled_samples": 25, "coupled_samples": 25,
        "pixel_scale": {"offset": 0.5, "scale": 1.0},
    }


def test_a_dict_and_a_file_generate_the_same(tmp_path):
    checkpoint = double_wells()
    path = tmp_path / "generator.json"
    path.write_text(json.dumps(checkpoint))
    with kelvin.open(URI) as board:
        a = kelvin.generate_quartic(board, checkpoint, samples=6, calibration="none")
    with kelvin.open(URI) as board:
        b = kelvin.generate_quartic(board, path, samples=6, calibration="none")
    assert isinstance(a, kelvin.QuarticGenerationResult)
    assert a.images.shape == (6, 4) and a.images.dtype == np.float64
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.heat_kt, b.heat_kt)
    np.testing.assert_array_equal(a.pixels, 0.5 + a.images)
    assert a.image_shape == (2, 2)
    assert a.trajectories is None
    assert a.summary.samples == 6 and a.summary.heat_dof == 5
    assert a.summary.heat_mean_kt == pytest.approx(np.mean(a.heat_kt), rel=1e-12)
    assert a.summary.heat_stderr_kt == pytest.approx(
        np.std(a.heat_kt, ddof=1) / np.sqrt(6), rel=1e-9)
    assert a.summary.energy["total_j"] > 0.0


def test_numpy_fields_and_trajectories():
    checkpoint = double_wells()
    checkpoint["coupling_codes"] = np.array(checkpoint["coupling_codes"], dtype=np.int16)
    checkpoint["quartic_codes"] = np.full(4, 4096, dtype=np.uint16)
    del checkpoint["kind"], checkpoint["version"]
    with kelvin.open(URI) as board:
        r = kelvin.generate_quartic(board, checkpoint, samples=2, record_trajectories=True,
                                    calibration="none")
    assert r.trajectories.shape == (2, 50, 4)
    np.testing.assert_array_equal(r.trajectories[:, -1, :], r.images)


def test_bad_checkpoints_name_the_field(tmp_path):
    checkpoint = double_wells()
    checkpoint["bias_codes"] = [0, 0, 0]
    with kelvin.open(URI) as board:
        with pytest.raises(kelvin.InvalidArgumentError, match="bias_codes"):
            kelvin.generate_quartic(board, checkpoint, samples=1, calibration="none")
        checkpoint = double_wells(cells=8)
        with pytest.raises(kelvin.InvalidArgumentError, match="cells = 8 but board"):
            kelvin.generate_quartic(board, checkpoint, samples=1, calibration="none")
        with pytest.raises(kelvin.InvalidArgumentError, match="cannot be read"):
            kelvin.generate_quartic(board, tmp_path / "missing.json", calibration="none")
        with pytest.raises(kelvin.InvalidArgumentError, match="samples = 0"):
            kelvin.generate_quartic(board, double_wells(), samples=0, calibration="none")
