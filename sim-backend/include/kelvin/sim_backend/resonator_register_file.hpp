// The resonator board's DAC registers in physical units (couplings A, biases b, noise D and
// quartic J4), and the validation every register write makes against the register spec
// (resonator_registers.hpp): reserved codes, code ranges and the capacitive sign rule.
//
// Validation and storage are apart because a write is two-phase: the model converts and checks
// the codes here, then may refuse for reasons of its own (a running RLC stream, a runaway A) and
// only then stores the value, so a refused write changes nothing.
//
// Thread contract: plain values and pure functions; a ResonatorRegisters is owned and used by
// one board model.
#pragma once

#include <cstdint>
#include <span>

#include <Eigen/Dense>

#include "kelvin/sim_backend/resonator_config.hpp"

namespace kelvin::sim_backend {

// What is programmed: the values the dynamics use.
struct ResonatorRegisters {
  // Power-up values: biases, noise and J4 0, couplings not programmed.
  explicit ResonatorRegisters(std::uint32_t cells);

  bool programmed = false;   // couplings written at least once
  Eigen::MatrixXd coupling;  // A, 1/us, symmetric
  Eigen::VectorXd bias;      // b, V/us
  std::uint32_t noise_code = 0;
  Eigen::VectorXd j4;  // J4, 1/(V^2 us)

  // D = code * lsb, V^2/us.
  double diffusion() const noexcept;
  // Whether any J4 is non-zero: overdamped dynamics then take the quartic stepper.
  bool quartic_active() const noexcept;
};

// The code -> value conversions of the register writes. Each checks every code before it
// returns, and throws BoardError(OUT_OF_RANGE) naming the first bad code and where it sits.

// A from the upper-triangle codes of a `cells`-cell board (wire order, wire_layout.hpp; the
// caller has checked the count). A capacitive board refuses positive off-diagonal codes.
Eigen::MatrixXd coupling_matrix(std::uint32_t cells, std::span<const std::int16_t> upper_codes,
                                CouplingKind kind);
// b from one code per cell.
Eigen::VectorXd bias_vector(std::span<const std::int16_t> codes);
// The noise code itself, if within the noise DAC's range.
std::uint32_t checked_noise_code(std::uint32_t code);
// J4 from one code per cell (every uint16 code is valid).
Eigen::VectorXd quartic_vector(std::span<const std::uint16_t> codes);

}  // namespace kelvin::sim_backend
