// The p-bit board's vector sweep: up to 32 chains of one run swept together, one chain per
// lane. It computes exactly what PbitModel's scalar loop computes (pbit_registers.hpp, Update,
// Sweep and RNG), bit for bit, for an ideal board without noisy or offset defects:
//   - spins are kept as one 32-bit mask per node, bit l set when chain first_chain + l reads -1;
//   - the local field is b_i + sum J s = base_i - sum over -1 neighbours of 2 J (int16 lanes);
//   - the threshold T = LUT[clamp(2 beta h)] comes from a table indexed by h, filled with
//     PbitModel::threshold() itself, so it is the same number;
//   - the Philox4x32-10 words are computed 16 chains at a time with the board's counter layout.
// Integer arithmetic only, so the order of operations cannot change a bit.
//
// Thread contract: lane_sweep() touches only the LaneSweep's group state (masks, scratch) and
// reads the shared tables; groups of different chains may be swept on different threads at
// once. lane_kernel_available() is safe from any thread.
#pragma once

#include <cstdint>
#include <vector>

namespace kelvin::sim_backend::detail {

inline constexpr std::uint32_t kLaneWidth = 32;  // chains per group (bits of a mask)
// |h| <= 127 + 6 * 16: h + kFieldHalfRange indexes a threshold table of 2 * 223 + 1 entries.
inline constexpr std::int32_t kFieldHalfRange = 127 + 6 * 16;
inline constexpr std::uint32_t kThresholdEntries = 2 * kFieldHalfRange + 1;

// The coupling rows of a programmed lattice, padded to a fixed length: node i's neighbours are
// neighbour[i * row_length + k] with weights twice_weight[...] (padding: node `nodes`, whose mask
// is always 0, with weight 0); base[i] = b_i + sum_k J_ik + kFieldHalfRange.
struct LaneTables {
  std::uint32_t nodes = 0;
  std::uint32_t row_length = 0;
  std::vector<std::uint32_t> neighbour;
  std::vector<std::int16_t> twice_weight;
  std::vector<std::int16_t> base;
};

// Which nodes a run updates: kind[i] = its colour (0 or 1) if free, kFixedNode otherwise.
inline constexpr std::uint8_t kFixedNode = 2;

// One sweep of one group of chains.
struct LaneSweep {
  const LaneTables* tables = nullptr;
  const std::uint8_t* kind = nullptr;  // per node
  std::uint64_t seed = 0;
  std::uint64_t sweep = 0;        // global sweep index (Philox counter words 0 and 1)
  std::uint32_t first_chain = 0;  // chain of lane 0 (counter word 2 is first_chain + lane)
  // Thresholds: lane l reads threshold[lane_offset[l] + h + kFieldHalfRange].
  const std::uint32_t* threshold = nullptr;
  const std::int32_t* lane_offset = nullptr;  // kLaneWidth entries
  std::uint32_t* negative = nullptr;          // nodes + 1 masks (the last stays 0)
  std::uint32_t* scratch = nullptr;           // colour-1 words: 32 per free colour-1 node
};

// True if this CPU runs the vector sweep (x86-64 with AVX-512 F/BW/VL/DQ).
bool lane_kernel_available() noexcept;
// Sweeps colour 0 then colour 1 of every lane. Only call if lane_kernel_available().
void lane_sweep(const LaneSweep& sweep) noexcept;

}  // namespace kelvin::sim_backend::detail
