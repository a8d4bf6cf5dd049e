// Settings of an emulated p-bit board, as chosen at power-up (from the device URI, e.g.
// sim:pbit?rows=70&cols=70&degree=12&seed=1).
//
// Thread contract: a plain value type.
#pragma once

#include <cstdint>
#include <string>

#include "kelvin/sim_backend/board_defects.hpp"
#include "kelvin/sim_backend/board_imperfections.hpp"

namespace kelvin::sim_backend {

struct PbitConfig {
  // Lattice size, 1..256 each.
  std::uint32_t rows = 70;
  std::uint32_t cols = 70;
  // Bulk degree of the lattice: 8, 12 or 16.
  std::uint32_t degree = 12;
  // Key of the board's counter-based RNG: the same seed gives the same samples, bit for bit.
  std::uint64_t seed = 1;
  // Serial number reported in DeviceInfo; empty means "SIM-PBIT-<rows>x<cols>-<seed>".
  std::string serial;
  // Injected defects (board_defects.hpp): p-bit indices below rows * cols, open pairs lattice
  // edges. Default: none.
  BoardDefects defects;
  // Per-p-bit sigmoid gain and offset flaws drawn from the serial (board_imperfections.hpp).
  // Default: ideal (none), so every sample is bit for bit the flawless board's.
  PbitImperfectionModel imperfections = PbitImperfectionModel::ideal();
  // Its name as given in the URI ("ideal" or "typical").
  std::string imperfections_name = "ideal";

  // Throws std::invalid_argument naming the bad field (or the defect that names no p-bit or
  // no edge of the lattice).
  void validate() const;
  // The serial as reported (applies the default).
  std::string effective_serial() const;
};

}  // namespace kelvin::sim_backend
