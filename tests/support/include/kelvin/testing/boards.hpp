// Emulated boards opened by URI, as the tests of the driver and of the parts above it use them
// (link kelvin::testing::boards).
#pragma once

#include <cstdint>
#include <string>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"

namespace kelvin::testing {

// The small p-bit board of most p-bit tests: a 3 x 4 lattice of degree 8 (12 nodes, 17 edges).
inline constexpr const char* kSmallPbitUri = "sim:pbit?rows=3&cols=4&degree=8&seed=2";

inline driver::PbitBoard open_pbit_board(const std::string& uri = kSmallPbitUri) {
  return driver::PbitBoard(driver::backends::open(uri));
}

// An emulated resonator board of `cells` cells whose noise has seed `seed`; `extra` appends more
// URI parameters ("&couplings=capacitive").
inline driver::ResonatorBoard open_resonator_board(std::uint32_t cells, std::uint64_t seed,
                                                   const std::string& extra = "") {
  return driver::ResonatorBoard(driver::backends::open(
      "sim:resonator?cells=" + std::to_string(cells) + "&seed=" + std::to_string(seed) + extra));
}

}  // namespace kelvin::testing
