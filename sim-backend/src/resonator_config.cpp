#include "kelvin/sim/resonator_config.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/sim/resonator_registers.hpp"

namespace kelvin::sim {

void ResonatorConfig::validate() const {
  if (cells < resonator::kMinCells || cells > resonator::kMaxCells) {
    throw std::invalid_argument(fmt::format("ResonatorConfig.cells must be in [{}, {}], got {}",
                                            resonator::kMinCells, resonator::kMaxCells, cells));
  }
}

std::string ResonatorConfig::effective_serial() const {
  return serial.empty() ? fmt::format("SIM-RES-{}-{}", cells, seed) : serial;
}

}  // namespace kelvin::sim
