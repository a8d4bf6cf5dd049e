"""Result objects of kelvin's jobs: NumPy arrays and a Summary (kelvin._summary)."""

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np


@dataclass(frozen=True)
class SolveResult:
    """x: estimate of A^-1 b; standard_error per component (summary.stderr_method says which
    kind: batch means with batches - 1 dof on the direct path, an error estimate on the block
    path)."""
    x: np.ndarray
    standard_error: np.ndarray
    summary: Any


@dataclass(frozen=True)
class InverseResult:
    """inverse: estimate of A^-1 from second moments; standard_error per entry."""
    inverse: np.ndarray
    standard_error: np.ndarray
    summary: Any


@dataclass(frozen=True)
class LogdetResult:
    """logdet of A with its standard error (jackknife); the realized (quantized) matrix and the
    work of each trajectory in units of kT."""
    logdet: float
    standard_error: float
    quantized_matrix: np.ndarray
    forward_work: np.ndarray
    reverse_work: np.ndarray
    summary: Any


@dataclass(frozen=True)
class NaturalGradientResult:
    """estimate of (F + damping I)^-1 g at analog time t (the mean of repeat_estimates, one row
    per repeat), standard_error per component (summary.degrees_of_freedom; for the block path,
    the block solve's error estimate and repeat_estimates None)."""
    estimate: np.ndarray
    standard_error: np.ndarray
    repeat_estimates: Optional[np.ndarray]
    summary: Any


@dataclass(frozen=True)
class SampleResult:
    """Per model node: mean <s_i> with mean_stderr, split R-hat and ESS; per model edge (rows of
    edges, in the model's order): <s_i s_j> with its stderr, R-hat and ESS. NaN where absent."""
    mean: np.ndarray
    mean_stderr: np.ndarray
    mean_split_rhat: np.ndarray
    mean_ess: np.ndarray
    edges: np.ndarray
    edge_correlations: np.ndarray
    edge_correlation_stderr: np.ndarray
    edge_split_rhat: np.ndarray
    edge_ess: np.ndarray
    summary: Any


@dataclass(frozen=True)
class StreamBlock:
    """One frame of a stream: samples in physical units (unit, = offset + lsb * codes), one row
    per sample and one column per cell; first_sequence is the stream index of the first row;
    lost_before the samples lost just before it; error what happened before it ("none",
    "overflow", "sequence gap", "bad frame", "timeout")."""
    samples: np.ndarray
    codes: np.ndarray
    unit: str
    lsb: float
    offset: float
    stream_id: int
    first_sequence: int
    first_tick: int
    lost_before: int
    board_overflows: int
    error: str
    end_of_stream: bool
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class QuarticGenerationResult:
    """Generation on quartic cells: images (samples x visible cells, volts), pixels (the
    checkpoint's offset + scale * volts), image_shape (rows, cols), heat_kt per sample
    (V(x at switch-on) - V(x at the end)) / kT (NaN without noise), heat in V^2/us, trajectories
    (samples x periods x visible volts, both phases) or None, summary."""
    images: np.ndarray
    pixels: np.ndarray
    image_shape: tuple
    heat_kt: np.ndarray
    heat: np.ndarray
    trajectories: Optional[np.ndarray]
    summary: Any
