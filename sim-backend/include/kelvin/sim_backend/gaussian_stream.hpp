// The emulated board's noise source: standard normal numbers addressed by (seed, global sample
// index, cell pair, substep), from the counter-based Philox4x32-10 generator of Random123.
// Nothing is stateful, so any sample's noise can be regenerated in any order: runs can be split
// or replayed bit for bit.
//
// Mapping (part of the board spec in resonator_registers.hpp):
//   key     = {seed low 32 bits, seed high 32 bits}
//   counter = {sample index low 32, sample index high 32, pair j, substep}
//   the four output words w0..w3 give r123::boxmuller(w0 | w1 << 32, w2 | w3 << 32) = (x, y),
//   the normals of cells 2j (x) and 2j + 1 (y).
//
// Thread contract: a GaussianStream is an immutable value; const members are safe from any
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace kelvin::sim_backend {

class GaussianStream {
 public:
  explicit GaussianStream(std::uint64_t seed) : seed_(seed) {}

  std::uint64_t seed() const noexcept { return seed_; }

  // The raw Philox4x32-10 output block for one counter (exposed for known-answer tests).
  std::array<std::uint32_t, 4> block(std::uint64_t sample_index, std::uint32_t pair,
                                     std::uint32_t substep = 0) const noexcept;

  // The two standard normals of cells 2 pair and 2 pair + 1.
  std::array<double, 2> normal_pair(std::uint64_t sample_index, std::uint32_t pair,
                                    std::uint32_t substep = 0) const noexcept;

  // Fills out[i] with the normal of cell i, for all cells of one sample (and substep).
  void fill(std::uint64_t sample_index, std::uint32_t substep,
            std::span<double> out) const noexcept;

 private:
  std::uint64_t seed_;
};

}  // namespace kelvin::sim_backend
