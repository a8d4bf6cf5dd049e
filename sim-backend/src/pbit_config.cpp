#include "kelvin/sim_backend/pbit_config.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"

namespace kelvin::sim_backend {

void PbitConfig::validate() const {
  const auto check_side = [](const char* name, std::uint32_t value) {
    if (value < firmware_protocol::kPbitMinSide || value > firmware_protocol::kPbitMaxSide) {
      throw std::invalid_argument(fmt::format("PbitConfig.{} must be in [{}, {}], got {}", name,
                                              firmware_protocol::kPbitMinSide,
                                              firmware_protocol::kPbitMaxSide, value));
    }
  };
  check_side("rows", rows);
  check_side("cols", cols);
  if (degree != 8 && degree != 12 && degree != 16) {
    throw std::invalid_argument(
        fmt::format("PbitConfig.degree must be 8, 12 or 16, got {}", degree));
  }
  imperfections.validate();
  defects.check_indices(rows * cols, "p-bit");
  if (!defects.open.empty()) {
    const firmware_protocol::PbitLattice lattice =
        firmware_protocol::make_pbit_lattice(rows, cols, degree);
    for (const auto& [i, j] : defects.open) {
      if (!lattice.edge_index(i, j)) {
        throw std::invalid_argument(fmt::format(
            "defect open:{}-{}: p-bits {} and {} are not coupled on this {}x{} degree-{} lattice",
            i, j, i, j, rows, cols, degree));
      }
    }
  }
}

std::string PbitConfig::effective_serial() const {
  return serial.empty() ? fmt::format("SIM-PBIT-{}x{}-{}", rows, cols, seed) : serial;
}

}  // namespace kelvin::sim_backend
