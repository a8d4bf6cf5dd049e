// The error an emulated board model raises for a request it refuses; the firmware answers the
// request with a wire Error of the carried code. Shared by every board family.
//
// Thread contract: a plain value type (an exception).
#pragma once

#include <stdexcept>
#include <string>

#include "kelvin/wire/v1/kelvin.pb.h"

namespace kelvin::sim {

// A request the board refuses; the firmware answers it with an Error of this code.
class BoardError : public std::runtime_error {
 public:
  BoardError(wire::v1::ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  wire::v1::ErrorCode code() const noexcept { return code_; }

 private:
  wire::v1::ErrorCode code_;
};

}  // namespace kelvin::sim
