// Hand-made quartic generators for the quartic generation tests, and the emulated resonator
// board's documented register scales (docs/boards.md), which the tests use to compute potentials
// independently of the runtime.
#pragma once

#include <cstdint>

#include "kelvin/runtime/quartic_generation.hpp"

namespace kelvin::testing::quartic {

inline constexpr double kCouplingLsb = 1.0 / 16384.0;  // 1/us
inline constexpr double kBiasLsb = 1.0 / 8192.0;       // V/us
inline constexpr double kQuarticLsb = 1.0 / 4096.0;    // 1/(V^2 us)
inline constexpr double kNoiseLsb = 1.0 / 65536.0;     // V^2/us
inline constexpr double kAdcLsb = 1.0 / 16384.0;       // V

// `cells` uncoupled double wells V_i = -x^2/2 + x^4 (A_ii = -1/us, J4 = 1, b = 0): minima at
// +-0.5 V, barrier 1/16 V^2/us; every cell visible, one image row; 25 + 25 sample periods.
inline runtime::QuarticGenerator double_wells(std::uint32_t cells, std::uint32_t noise_code) {
  runtime::QuarticGenerator g;
  g.cells = cells;
  g.coupling_codes.assign(static_cast<std::size_t>(cells) * cells, 0);
  for (std::uint32_t i = 0; i < cells; ++i)
    g.coupling_codes[static_cast<std::size_t>(i) * cells + i] = -16384;
  g.bias_codes.assign(cells, 0);
  g.quartic_codes.assign(cells, 4096);
  g.noise_code = noise_code;
  for (std::uint32_t i = 0; i < cells; ++i)
    g.visible.push_back(i);
  g.image_rows = 1;
  g.image_cols = cells;
  g.uncoupled_samples = 25;
  g.coupled_samples = 25;
  return g;
}

}  // namespace kelvin::testing::quartic
