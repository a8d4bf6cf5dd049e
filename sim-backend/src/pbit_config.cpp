#include "kelvin/sim/pbit_config.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/protocol/pbit_lattice.hpp"

namespace kelvin::sim {

void PbitConfig::validate() const {
  const auto check_side = [](const char* name, std::uint32_t value) {
    if (value < protocol::kPbitMinSide || value > protocol::kPbitMaxSide) {
      throw std::invalid_argument(fmt::format("PbitConfig.{} must be in [{}, {}], got {}", name,
                                              protocol::kPbitMinSide, protocol::kPbitMaxSide,
                                              value));
    }
  };
  check_side("rows", rows);
  check_side("cols", cols);
  if (degree != 8 && degree != 12 && degree != 16) {
    throw std::invalid_argument(
        fmt::format("PbitConfig.degree must be 8, 12 or 16, got {}", degree));
  }
}

std::string PbitConfig::effective_serial() const {
  return serial.empty() ? fmt::format("SIM-PBIT-{}x{}-{}", rows, cols, seed) : serial;
}

}  // namespace kelvin::sim
