// kelvin errors as Python exceptions. The classes live in python/kelvin/errors.py (a base
// kelvin.Error and one subclass per common::ErrorKind, each also deriving from the closest
// built-in: ValueError, TimeoutError, ConnectionError, ...); here every common::Error becomes the
// one for its kind, with the same message, its kind's name and the board's error code if any.
#include <exception>

#include "bindings.hpp"
#include "kelvin/common/error.hpp"

namespace kelvin::python {

namespace {

const char* class_name(common::ErrorKind kind) {
  using common::ErrorKind;
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return "InvalidArgumentError";
    case ErrorKind::kOutOfRange:
      return "OutOfRangeError";
    case ErrorKind::kNotSupported:
      return "NotSupportedError";
    case ErrorKind::kNotFound:
      return "NotFoundError";
    case ErrorKind::kTimeout:
      return "TimeoutError";
    case ErrorKind::kDisconnected:
      return "DisconnectedError";
    case ErrorKind::kBadFrame:
      return "BadFrameError";
    case ErrorKind::kProtocol:
      return "ProtocolError";
    case ErrorKind::kDevice:
      return "DeviceError";
    case ErrorKind::kPermissionDenied:
      return "PermissionDeniedError";
    case ErrorKind::kLateCommand:
      return "LateCommandError";
  }
  return "Error";
}

}  // namespace

void bind_errors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p)
        std::rethrow_exception(p);
    } catch (const common::Error& e) {
      const py::object errors = py::module_::import("kelvin.errors");
      const py::object cls = errors.attr(class_name(e.kind()));
      py::object exc = cls(e.what());
      exc.attr("kind") = common::to_string(e.kind());
      exc.attr("device_code") = e.device_code() ? py::cast(*e.device_code()) : py::none();
      PyErr_SetObject(cls.ptr(), exc.ptr());
    }
  });
  m.def("_error_class_name", [](const std::string& kind) {
    for (int k = 0; k <= static_cast<int>(common::ErrorKind::kLateCommand); ++k) {
      const auto ek = static_cast<common::ErrorKind>(k);
      if (kind == common::to_string(ek))
        return std::string(class_name(ek));
    }
    return std::string("Error");
  });
  m.def(
      "_raise_error",
      [](const std::string& kind, const std::string& message) {
        for (int k = 0; k <= static_cast<int>(common::ErrorKind::kLateCommand); ++k) {
          const auto ek = static_cast<common::ErrorKind>(k);
          if (kind == common::to_string(ek))
            throw common::Error(ek, message);
        }
        throw common::Error(common::ErrorKind::kInvalidArgument, "unknown error kind " + kind);
      },
      "Raises the kelvin error of that kind (for tests of the translation).");
}

}  // namespace kelvin::python
