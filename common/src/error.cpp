#include "kelvin/common/error.hpp"

namespace kelvin::common {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return "invalid argument";
    case ErrorKind::kOutOfRange:
      return "out of range";
    case ErrorKind::kNotSupported:
      return "not supported";
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kDisconnected:
      return "disconnected";
    case ErrorKind::kBadFrame:
      return "bad frame";
    case ErrorKind::kProtocol:
      return "protocol error";
    case ErrorKind::kDevice:
      return "device error";
    case ErrorKind::kPermissionDenied:
      return "permission denied";
    case ErrorKind::kLateCommand:
      return "late command";
  }
  return "unknown error";
}

}  // namespace kelvin::common
