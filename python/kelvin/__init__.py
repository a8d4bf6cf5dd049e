"""kelvin: thermodynamic computing boards from Python.

    import kelvin
    board = kelvin.open("sim:resonator?cells=8&seed=1")
    result = kelvin.solve(board, A, b)
    print(result.x, result.standard_error)
    print(result.summary)            # the brief report; fields are attributes

Boards: kelvin.find(), kelvin.open(uri) (ResonatorBoard or PbitBoard, both with describe()).
Jobs: solve, inverse, logdet, natgrad (and NaturalGradientEstimator), sample, stream,
generate_quartic.
Errors: kelvin.Error and its subclasses (kelvin.errors). PyTorch: kelvin.torch.TNGD.
docs/python.md has the whole reference. Device work releases the GIL: threads driving
different boards run in parallel; one board takes one call at a time.
"""

from . import errors
from ._kelvin import (
    DEFAULT_PBIT_URI,
    DEFAULT_RESONATOR_URI,
    NaturalGradientEstimator,
    PbitBoard,
    ResonatorBoard,
    Stream,
    find,
    generate_quartic,
    inverse,
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
    "find", "open", "solve", "inverse", "logdet", "natgrad", "sample", "stream", "uri_help",
    "set_log_level", "generate_quartic",
    "ResonatorBoard", "PbitBoard", "NaturalGradientEstimator", "Stream", "Summary",
    "SolveResult", "InverseResult", "LogdetResult", "NaturalGradientResult", "SampleResult",
    "StreamBlock", "QuarticGenerationResult", "DEFAULT_RESONATOR_URI", "DEFAULT_PBIT_URI", "errors",
] + errors.__all__
