"""kelvin's exceptions: one class per kind of failure the C++ library reports.

Every error from the library is a :class:`Error` with the C++ message unchanged, ``kind`` (the
C++ ErrorKind's name, e.g. ``"invalid argument"``) and ``device_code`` (the board's wire error
code for :class:`DeviceError`, else None). Each subclass also derives from the closest built-in
exception, so ``except ValueError`` catches bad input and ``except TimeoutError`` a deadline.
"""

import builtins


class Error(RuntimeError):
    """Base class of every kelvin error."""

    kind = "error"
    device_code = None


class InvalidArgumentError(Error, ValueError):
    """The caller's input is malformed: sizes, NaN, asymmetric or non-SPD matrices, bad URIs."""


class OutOfRangeError(Error, ValueError):
    """A value does not fit the hardware's range (DAC codes, durations, couplings)."""


class NotSupportedError(Error):
    """The board cannot do this (wrong family, too many unknowns, a missing capability)."""


class NotFoundError(Error, LookupError):
    """No backend or device matches the address."""


class TimeoutError(Error, builtins.TimeoutError):  # noqa: A001 (kelvin.TimeoutError on purpose)
    """The call's total deadline passed."""


class DisconnectedError(Error, ConnectionError):
    """The link closed or the device vanished (also: any call on a closed board)."""


class BadFrameError(Error):
    """Bytes from the device could not be decoded."""


class ProtocolError(Error):
    """A well-formed reply that breaks the protocol."""


class DeviceError(Error):
    """The board answered with an error; ``device_code`` is its wire ErrorCode."""


class PermissionDeniedError(Error, PermissionError):
    """The OS or a board server refused access (USB permissions, a server token)."""


class LateCommandError(Error):
    """A timed command reached the board after its time had passed."""


__all__ = [
    "Error", "InvalidArgumentError", "OutOfRangeError", "NotSupportedError", "NotFoundError",
    "TimeoutError", "DisconnectedError", "BadFrameError", "ProtocolError", "DeviceError",
    "PermissionDeniedError", "LateCommandError",
]
