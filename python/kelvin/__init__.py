"""kelvin: thermodynamic computing boards from Python.

    import kelvin
    board = kelvin.open("sim:resonator?cells=8&seed=1")
    result = kelvin.solve(board, A, b)
    print(result.x, result.standard_error)
    print(result.summary)            # the brief report; fields are attributes

Boards: kelvin.find(), kelvin.open(uri) (ResonatorBoard or PbitBoard, both with describe()).
Jobs: solve, inverse, logdet, natgrad (and NaturalGradientEstimator), sample, stream,
denoise, generate_quartic.
Learning: BoltzmannTrainer (p-bit board in the loop); exact_ising, exact_marginal, kl_divergence.
Errors: kelvin.Error and its subclasses (kelvin.errors). PyTorch: kelvin.torch.TNGD.
docs/python.md has the whole reference. Device work releases the GIL: threads driving
different boards run in parallel; one board takes one call at a time.
"""

from . import errors
from ._kelvin import (
    BoltzmannTrainer,
    DEFAULT_PBIT_URI,
    DEFAULT_RESONATOR_URI,
    NaturalGradientEstimator,
    PbitBoard,
    ResonatorBoard,
    Stream,
    denoise,
    exact_ising,
    exact_marginal,
    find,
    generate_quartic,
    inverse,
    kl_divergence,
    logdet,
    natgrad,
    open,
    sample,
    set_log_level,
    solve,
    stream,
    uri_help,
)
from ._results import (
    BoltzmannSamples,
    BoltzmannStepResult,
    DenoiseResult,
    InverseResult,
    LogdetResult,
    NaturalGradientResult,
    QuarticGenerationResult,
    SampleResult,
    SolveResult,
    StreamBlock,
)
from ._summary import Summary
from .errors import (
    BadFrameError,
    DeviceError,
    DisconnectedError,
    Error,
    InvalidArgumentError,
    LateCommandError,
    NotFoundError,
    NotSupportedError,
    OutOfRangeError,
    PermissionDeniedError,
    ProtocolError,
    TimeoutError,
)

__all__ = [
    "find", "open", "solve", "inverse", "logdet", "natgrad", "sample", "stream", "denoise",
    "uri_help", "set_log_level", "generate_quartic", "BoltzmannTrainer", "BoltzmannStepResult",
    "BoltzmannSamples", "exact_ising", "exact_marginal", "kl_divergence",
    "ResonatorBoard", "PbitBoard", "NaturalGradientEstimator", "Stream", "Summary",
    "SolveResult", "InverseResult", "LogdetResult", "NaturalGradientResult", "SampleResult",
    "DenoiseResult", "StreamBlock", "QuarticGenerationResult", "DEFAULT_RESONATOR_URI",
    "DEFAULT_PBIT_URI", "errors",
] + errors.__all__
