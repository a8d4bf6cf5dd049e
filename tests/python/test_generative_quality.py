"""python/examples/generative_quality.py: the classifier score tells real images from the
independent-pixel baseline, the pixel errors sit at their floors for real images, bad samples are
refused, and the PNG grid has the promised size. Skipped without Debian's dataset-fashion-mnist."""

import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python", "examples"))

import fashion_data  # noqa: E402
import generative_quality as gq  # noqa: E402

needs_data = pytest.mark.skipif(bool(fashion_data.missing_files()),
                                reason="Fashion-MNIST is not installed")


@pytest.fixture(scope="module")
def scorer():
    return gq.Scorer.fit(size=14, seed=0, epochs=1)


@needs_data
def test_real_images_beat_the_independent_pixel_model(scorer):
    x, _ = gq.load_images("test", 14)
    real = scorer.score(gq.binarize(x[:400]))
    indep = scorer.score(gq.independent_pixel_samples(scorer.train01, 400, seed=1))
    assert scorer.test_accuracy > 0.6
    # Differences of several bootstrap standard errors, not tuned margins.
    gap = real["score"] - indep["score"]
    assert gap > 5 * np.hypot(real["score_stderr"], indep["score_stderr"])
    assert real["confidence"] - indep["confidence"] > 5 * np.hypot(
        real["confidence_stderr"], indep["confidence_stderr"])
    # Independent pixels get the marginals right and the pair correlations wrong.
    assert indep["correlation_error"] > 3 * indep["correlation_error_floor"]
    assert abs(real["correlation_error"] - real["correlation_error_floor"]) < 4 * real[
        "correlation_error_stderr"] + 0.01
    assert sum(real["class_histogram"]) == 400


@needs_data
def test_samples_that_are_not_binary_images_are_refused(scorer):
    with pytest.raises(ValueError, match="N x 196"):
        scorer.score(np.zeros((4, 10), dtype=np.uint8))
    with pytest.raises(ValueError, match="0/1"):
        scorer.score(np.full((4, 196), 0.5))


def test_png_grid_has_the_size_of_its_tiles(tmp_path):
    import matplotlib.image as mpimg
    path = tmp_path / "grid.png"
    gq.write_png_grid(str(path), np.eye(6, 4), rows=2, cols=3, image_shape=(2, 2), scale=3)
    img = mpimg.imread(str(path))
    assert img.shape[:2] == (2 * (2 * 3 + 1) + 1, 3 * (2 * 3 + 1) + 1)
    with pytest.raises(ValueError, match="N x 4"):
        gq.write_png_grid(str(path), np.ones((2, 5)), 1, 2, (2, 2))
