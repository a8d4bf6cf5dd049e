// The error an emulated board model raises for a request it refuses; the firmware answers the
// request with a wire Error of the carried code. Shared by every board family.
//
// Thread contract: a plain value type (an exception).
#pragma once

#include <stdexcept>
#include <string>

#include "kelvin/firmware_protocol/wire.pb.h"

namespace kelvin::sim_backend {

// A request the board refuses; the firmware answers it with an Error of this code.
class BoardError : public std::runtime_error {
 public:
  BoardError(firmware_protocol::wire::ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  firmware_protocol::wire::ErrorCode code() const noexcept { return code_; }

 private:
  firmware_protocol::wire::ErrorCode code_;
};

}  // namespace kelvin::sim_backend
