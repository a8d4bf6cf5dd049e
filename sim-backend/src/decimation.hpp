// Internal to kelvin_sim_backend: the decimation rule that runs and streams share (a StartRun or
// StartStream decimation of 0 means 1; above resonator::kMaxDecimation is refused).
//
// Thread contract: a pure function; safe from any thread.
#pragma once

#include <cstdint>

#include <fmt/format.h>

#include "kelvin/sim_backend/board_error.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"

namespace kelvin::sim_backend::detail {

inline std::uint32_t effective_decimation(std::uint32_t decimation) {
  const std::uint32_t k = decimation == 0 ? 1 : decimation;
  if (k > resonator::kMaxDecimation) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     fmt::format("decimation {} is above the board's maximum of {}", decimation,
                                 resonator::kMaxDecimation));
  }
  return k;
}

}  // namespace kelvin::sim_backend::detail
