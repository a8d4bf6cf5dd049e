"""Bad input raises the right kelvin exception with a clear message, and never crashes the
interpreter: wrong shapes, NaN, non-SPD matrices, wrong dtypes, bad options, closed boards."""

import numpy as np
import pytest

import kelvin

URI = "sim:resonator?cells=8&seed=1"


@pytest.fixture
def board():
    with kelvin.open(URI) as b:
        yield b


def test_every_error_kind_has_its_class_and_keeps_the_message():
    kinds = {
        "invalid argument": (kelvin.InvalidArgumentError, ValueError),
        "out of range": (kelvin.OutOfRangeError, ValueError),
        "not supported": (kelvin.NotSupportedError, kelvin.Error),
        "not found": (kelvin.NotFoundError, LookupError),
        "timeout": (kelvin.TimeoutError, TimeoutError),
        "disconnected": (kelvin.DisconnectedError, ConnectionError),
        "bad frame": (kelvin.BadFrameError, kelvin.Error),
        "protocol error": (kelvin.ProtocolError, kelvin.Error),
        "device error": (kelvin.DeviceError, kelvin.Error),
        "permission denied": (kelvin.PermissionDeniedError, PermissionError),
        "late command": (kelvin.LateCommandError, kelvin.Error),
    }
    from kelvin import _kelvin
    for kind, (cls, builtin) in kinds.items():
        with pytest.raises(cls, match="the message") as info:
            _kelvin._raise_error(kind, "the message")
        assert isinstance(info.value, builtin) and isinstance(info.value, kelvin.Error)
        assert info.value.kind == kind


def test_wrong_shapes_are_invalid_arguments(board):
    with pytest.raises(kelvin.InvalidArgumentError, match="b"):
        kelvin.solve(board, np.eye(3), np.ones(4))
    with pytest.raises(kelvin.InvalidArgumentError, match="2-dimensional"):
        kelvin.solve(board, np.ones(3), np.ones(3))
    with pytest.raises(kelvin.InvalidArgumentError, match="empty"):
        kelvin.solve(board, np.zeros((0, 0)), np.zeros(0))
    with pytest.raises(kelvin.InvalidArgumentError, match="curvature"):
        kelvin.natgrad(board, np.ones(3), np.eye(4))


def test_nan_and_non_spd_matrices_are_named(board):
    A = np.eye(3)
    A[1, 1] = np.nan
    with pytest.raises(kelvin.InvalidArgumentError, match="(?i)finite|nan"):
        kelvin.solve(board, A, np.ones(3))
    with pytest.raises(kelvin.InvalidArgumentError, match="(?i)positive definite"):
        kelvin.solve(board, np.diag([1.0, -1.0, 2.0]), np.ones(3))
    with pytest.raises(kelvin.InvalidArgumentError, match="(?i)symmetr"):
        kelvin.solve(board, np.array([[2.0, 1.0], [0.0, 2.0]]), np.ones(2))


def test_wrong_dtypes_are_refused_by_name(board):
    with pytest.raises(kelvin.InvalidArgumentError, match="A must be a real numeric array.*complex"):
        kelvin.solve(board, np.eye(2, dtype=complex), np.ones(2))
    with pytest.raises(kelvin.InvalidArgumentError, match="real numeric"):
        kelvin.solve(board, np.eye(2), np.array(["a", "b"]))
    with pytest.raises(kelvin.InvalidArgumentError, match="real numeric"):
        kelvin.solve(board, np.eye(2, dtype=bool), np.ones(2))
    # Integers and float32 are converted.
    assert kelvin.solve(board, 2 * np.eye(2, dtype=np.int64), np.ones(2, dtype=np.float32),
                        batches=4).x.shape == (2,)


def test_bad_options_name_the_option(board):
    with pytest.raises(kelvin.InvalidArgumentError, match="batches"):
        kelvin.solve(board, np.eye(2), np.ones(2), batches=1)
    with pytest.raises(kelvin.InvalidArgumentError, match="preconditioning"):
        kelvin.solve(board, np.eye(2), np.ones(2), preconditioning="magic")
    with pytest.raises(kelvin.InvalidArgumentError, match="timeout_s"):
        kelvin.solve(board, np.eye(2), np.ones(2), timeout_s=-1)
    with pytest.raises(TypeError):
        kelvin.solve(board, np.eye(2), np.ones(2), no_such_option=3)
    with pytest.raises(kelvin.InvalidArgumentError, match="either F or J"):
        kelvin.natgrad(board, np.ones(2), np.eye(2), J=np.eye(2))


def test_too_many_unknowns_for_natgrad_is_not_supported(board):
    with pytest.raises(kelvin.NotSupportedError):
        kelvin.natgrad(board, np.ones(12), np.eye(12))


def test_a_closed_board_raises_disconnected():
    board = kelvin.open(URI)
    board.close()
    assert board.closed
    with pytest.raises(kelvin.DisconnectedError):
        kelvin.solve(board, np.eye(2), np.ones(2))
    board.close()  # idempotent


def test_bad_uris_are_refused():
    with pytest.raises(kelvin.NotFoundError, match="nosuch"):
        kelvin.open("nosuch:board")
    with pytest.raises(kelvin.InvalidArgumentError):
        kelvin.open("sim:resonator?cells=banana")


def test_sample_models_must_be_integer_symmetric_and_fit():
    with kelvin.open("sim:pbit?rows=8&cols=8&degree=8&seed=2") as pbit:
        J = np.zeros((3, 3))
        J[0, 1] = J[1, 0] = 0.5
        with pytest.raises(kelvin.InvalidArgumentError, match="not an integer"):
            kelvin.sample(pbit, J)
        J[0, 1] = 1
        with pytest.raises(kelvin.InvalidArgumentError, match="not symmetric"):
            kelvin.sample(pbit, J)
        with pytest.raises(kelvin.InvalidArgumentError, match="h has 2 entries"):
            kelvin.sample(pbit, np.zeros((3, 3)), h=[1, 2])
        J = np.zeros((3, 3))
        J[0, 2] = J[2, 0] = 1  # nodes 0 and 2 are not neighbours on the lattice
        with pytest.raises(kelvin.NotSupportedError, match="lattice edge"):
            kelvin.sample(pbit, J)
    with kelvin.open(URI) as resonator, pytest.raises(TypeError):
        kelvin.sample(resonator, np.zeros((2, 2)))
