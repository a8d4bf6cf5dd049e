// The error an emulated board model raises for a request it refuses; the firmware answers the
// request with a wire Error. Shared by every board family.
//
// The codes are sim-backend's own, one per wire ErrorCode a board raises, and only the firmware
// maps them onto the wire (firmware_support.cpp, which builds every Error reply). That keeps the
// models and their headers free of the protobuf header: a model knows what it refuses, not how
// the refusal is encoded.
//
// Thread contract: a plain value type (an exception).
#pragma once

#include <stdexcept>
#include <string>

namespace kelvin::sim_backend {

// Why a board refuses a request; each is sent as the wire ERROR_CODE_ of the same name.
enum class BoardErrorCode {
  kUnsupportedVersion,  // protocol version not spoken
  kUnexpectedMessage,   // a reply type, an empty body, or another family's request
  kInvalidArgument,     // wrong sizes, bad durations or settings
  kOutOfRange,          // a code outside its range (or reserved)
  kNotProgrammed,       // a run before the couplings were programmed
  kUnknownRun,          // results never existed or were already read or dropped
  kResourceExhausted,   // a reply would exceed the frame or record limit
  kInternal,            // a fault inside the board
  kBusy,                // a stream runs
  kNoStream,            // ReadStream before any StartStream
  kLateCommand,         // a timed command arrived after its time had passed
};

// A request the board refuses; the firmware answers it with an Error of this code.
class BoardError : public std::runtime_error {
 public:
  BoardError(BoardErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  BoardErrorCode code() const noexcept { return code_; }

 private:
  BoardErrorCode code_;
};

}  // namespace kelvin::sim_backend
