#include "kelvin/sim_backend/resonator_config.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/sim_backend/resonator_registers.hpp"

namespace kelvin::sim_backend {

void ResonatorConfig::validate() const {
  if (cells < resonator::kMinCells || cells > resonator::kMaxCells) {
    throw std::invalid_argument(fmt::format("ResonatorConfig.cells must be in [{}, {}], got {}",
                                            resonator::kMinCells, resonator::kMaxCells, cells));
  }
  imperfections.validate();
  defects.check_indices(cells, "cell");
  // The ring must hold at least one frame's worth of samples, and stay within 1 GiB.
  if (ring_samples != 0 && (ring_samples < 16 || 2 * ring_samples * cells > (1ull << 30))) {
    throw std::invalid_argument(fmt::format(
        "ResonatorConfig.ring_samples must be 0 (default) or in [16, 2^30 / (2 cells)], got {}",
        ring_samples));
  }
}

std::uint64_t ResonatorConfig::effective_ring_samples() const {
  return ring_samples != 0 ? ring_samples : resonator::default_ring_samples(cells);
}

BoardClock steady_board_clock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  };
}

std::string ResonatorConfig::effective_serial() const {
  return serial.empty() ? fmt::format("SIM-RES-{}-{}", cells, seed) : serial;
}

}  // namespace kelvin::sim_backend
