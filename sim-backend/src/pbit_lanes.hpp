// The p-bit board's vector sweep: up to 32 chains of one run swept together, one chain per
// lane. It computes exactly what PbitModel's scalar loop computes (pbit_registers.hpp, Update,
// Sweep and RNG), bit for bit, for an ideal board without noisy or offset defects:
//   - spins are kept as one 32-bit mask per node, bit l set when chain first_chain + l reads -1;
//   - the local field is b_i + sum J s = base_i - sum over -1 neighbours of 2 J (int16 lanes);
//   - the threshold T = LUT[clamp(2 beta h)] comes from a table indexed by h, filled with
//     PbitModel::threshold() itself, so it is the same number. With one beta for all lanes the
//     table is read by in-register permutes: node i's field takes only the values
//     h_min_i + 2 m, m in [0, A_i], A_i = sum |J_ik| <= 96, so m indexes a 128-entry window of
//     the table split into T >> 8 and T & 255 (16-bit lanes); with a beta per lane, by gathers;
//   - the Philox4x32-10 words are computed 16 chains at a time with the board's counter layout.
// Integer arithmetic only, so the order of operations cannot change a bit.
//
// Thread contract: lane_sweep() touches only the LaneSweep's group state (masks, scratch) and
// reads the shared tables; groups of different chains may be swept on different threads at
// once. lane_kernel_available() is safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace kelvin::sim_backend::detail {

inline constexpr std::uint32_t kLaneWidth = 32;  // chains per group (bits of a mask)
// |h| <= 127 + 6 * 16: h + kFieldHalfRange indexes a threshold table of 2 * 223 + 1 entries.
inline constexpr std::int32_t kFieldHalfRange = 127 + 6 * 16;
inline constexpr std::uint32_t kThresholdEntries = 2 * kFieldHalfRange + 1;

// Window tables (one beta): window_hi/lo[q * kWindowStride + j] = T(2 j + q - kWindowLow) >> 8
// and & 255; node i reads from window[i] = (h_min_i + kWindowLow) split into q = parity and j.
inline constexpr std::int32_t kWindowLow = 224;
inline constexpr std::uint32_t kWindowStride = 304;  // >= (127 + 224) / 2 + 128
inline constexpr std::uint32_t kWindowEntries = 2 * kWindowStride;

// The coupling rows of a programmed lattice, padded to a fixed length: node i's neighbours are
// neighbour[i * row_length + k] with weights weight[...] and twice_weight[...] (padding: node
// `nodes`, whose mask is always 0, with weight 0); base[i] = b_i + sum_k J_ik + kFieldHalfRange;
// start[i] = (sum_k J_ik + A_i) / 2, the window index m of the field when every neighbour
// reads +1; wide[i] != 0 if A_i >= 64 (the window's second half is needed).
struct LaneTables {
  std::uint32_t nodes = 0;
  std::uint32_t row_length = 0;
  std::vector<std::uint32_t> neighbour;
  std::vector<std::int16_t> weight;
  std::vector<std::int16_t> twice_weight;
  std::vector<std::int16_t> base;
  std::vector<std::int16_t> start;
  std::vector<std::uint16_t> window;
  std::vector<std::uint8_t> wide;
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
  // One beta: the window tables (kWindowEntries each). Else (null) lane l reads
  // threshold[lane_offset[l] + h + kFieldHalfRange].
  const std::uint16_t* window_hi = nullptr;
  const std::uint16_t* window_lo = nullptr;
  const std::uint32_t* threshold = nullptr;
  const std::int32_t* lane_offset = nullptr;  // kLaneWidth entries
  std::uint32_t* negative = nullptr;          // nodes + 1 masks (the last stays 0)
  std::uint32_t* scratch = nullptr;           // colour-1 words: 32 per free colour-1 node
};

// True if this CPU runs the vector sweep (x86-64 with AVX-512 F/BW/VL/DQ).
bool lane_kernel_available() noexcept;
// Sweeps colour 0 then colour 1 of every lane. Only call if lane_kernel_available().
void lane_sweep(const LaneSweep& sweep) noexcept;
// Adds one sample of the lanes in `active`: spin_sums[i] += sum over them of s_i, and for each
// edge (u, v) edge_sums[e] += sum of s_u s_v (none if `edges` is empty). Only call if
// lane_kernel_available().
void lane_sums(const std::uint32_t* negative, std::uint32_t active,
               std::span<std::int64_t> spin_sums,
               std::span<const std::pair<std::uint32_t, std::uint32_t>> edges,
               std::span<std::int64_t> edge_sums) noexcept;

}  // namespace kelvin::sim_backend::detail
