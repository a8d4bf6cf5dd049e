// Settings of an emulated resonator board, as chosen at power-up (from the device URI, e.g.
// sim:resonator?cells=8&seed=1).
//
// Thread contract: a plain value type.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "kelvin/sim_backend/board_defects.hpp"
#include "kelvin/sim_backend/board_imperfections.hpp"

namespace kelvin::sim_backend {

// Which coupling matrices the board realizes: any sign off the diagonal, or only the A_ij <= 0
// of coupling capacitors.
enum class CouplingKind { kSigned, kCapacitive };

// The device clock of streams: nanoseconds on a monotonic clock.
using BoardClock = std::function<std::chrono::nanoseconds()>;
// std::chrono::steady_clock.
BoardClock steady_board_clock();

struct ResonatorConfig {
  // Number of coupled cells; 1 to 256.
  std::uint32_t cells = 8;
  // Key of the board's counter-based noise generator: the same seed gives the same ADC stream,
  // bit for bit.
  std::uint64_t seed = 1;
  // Serial number reported in DeviceInfo; empty means "SIM-RES-<cells>-<seed>".
  std::string serial;
  // Coupling realizability. Default: signed.
  CouplingKind coupling_kind = CouplingKind::kSigned;
  // Tolerances from which the board's flaws are drawn (per serial). Default: an ideal board.
  ImperfectionModel imperfections = ImperfectionModel::ideal();
  // Name reported for the tolerances: "ideal" or "typical" (or "custom").
  std::string imperfections_name = "ideal";
  // Injected defects (board_defects.hpp). Default: none.
  BoardDefects defects;
  // Stream ring buffer, in samples; 0 means resonator::default_ring_samples(cells).
  std::uint64_t ring_samples = 0;
  // Paces streams; default steady_board_clock(). Tests inject a manual clock.
  BoardClock clock;

  // Throws std::invalid_argument naming the bad field.
  void validate() const;
  // The serial as reported (applies the default).
  std::string effective_serial() const;
  std::uint64_t effective_ring_samples() const;
};

}  // namespace kelvin::sim_backend
