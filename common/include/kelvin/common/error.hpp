// Errors raised by every kelvin library. Every failure a caller can act on has its own kind, so
// that code can tell a timeout from a vanished device from bad input.
//
// Thread contract: plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace kelvin::common {

enum class ErrorKind {
  kInvalidArgument,   // caller's input is malformed (sizes, NaN, bad URI, ...)
  kOutOfRange,        // a value does not fit the hardware's range (DAC codes, durations, ...)
  kNotSupported,      // the device cannot do this (wrong family, missing capability)
  kNotFound,          // no backend or device matches the address
  kTimeout,           // the call's total deadline passed
  kDisconnected,      // the transport closed or the device vanished
  kBadFrame,          // bytes from the device could not be decoded
  kProtocol,          // a well-formed reply that breaks the protocol (wrong type, wrong size)
  kDevice,            // the device answered with an Error message (see device_code())
  kPermissionDenied,  // the OS or a board server refused access (USB permissions, server token)
  kLateCommand,       // a timed command reached the board after its time had passed
};

const char* to_string(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what, std::optional<int> device_code = std::nullopt)
      : std::runtime_error(what), kind_(kind), device_code_(device_code) {}
  ErrorKind kind() const noexcept { return kind_; }
  // For kDevice: the wire ErrorCode the board sent (kelvin.firmware_protocol.wire.ErrorCode).
  std::optional<int> device_code() const noexcept { return device_code_; }

 private:
  ErrorKind kind_;
  std::optional<int> device_code_;
};

}  // namespace kelvin::common
