// Register map and numeric specification of the emulated p-bit TSU board ("pbit-gibbs", in the
// style of Extropic's thermodynamic sampling units). Every number the firmware reports in
// DeviceInfo, or applies to a request, is defined here.
//
// Thread contract: compile-time constants and pure constexpr functions; safe from any thread.
//
// ---------------------------------------------------------------------------------------------
// The board
// ---------------------------------------------------------------------------------------------
// Lattice       rows x cols stochastic bits s_i in {-1, +1} (rows, cols 1..256, default 70 x 70),
//               node index i = row * cols + col. Edges: kelvin/firmware_protocol/pbit_lattice.hpp
//               (the jumps of the generators G8 = {(0,1), (4,1)}, G12 = G8 + {(10,9)}, G16 = G12 +
//               {(11,14)} in all four rotations, open boundaries; degree 8, 12 or 16, default
//               12). Every edge joins the two checkerboard colours (row + col) % 2.
// Weights       one int8 per edge in canonical edge order, 4-bit two's complement codes with a
//               magnitude cap: valid J in [-6, 6] (|J| = 7, 8 and anything else:
//               ERROR_CODE_OUT_OF_RANGE naming the edge). Unit "J" (coupling units), lsb 1.
// Biases        one int8 per node, valid b in [-127, 127] (-128: OUT_OF_RANGE). Unit "J".
//               Weights and biases are 0 at power-up (a valid, uncoupled model: runs do not
//               need a ProgramLattice first).
// Beta          inverse temperature per sweep, uint16 code in Q8.8: beta = code / 256, codes
//               [0, 65535] (unit "1/J", lsb 1/256). SetBetaSchedule holds 1..65536 codes; sweep
//               k of a run (burn-in sweeps included, k from 0) uses schedule[min(k, size - 1)].
//               Power-up schedule: [256] (beta = 1).
// Chain beta    (v4, CAPABILITY_PER_CHAIN_BETA) StartSampling.chain_beta_codes: empty = every
//               chain follows the schedule; otherwise exactly `chains` codes in [0, 65535], and
//               chain c uses chain_beta_codes[c] on every sweep of that run (burn-in included),
//               overriding the schedule. It holds for that run only (the schedule register is
//               unchanged). A wrong count is INVALID_ARGUMENT, a code beyond 65535 OUT_OF_RANGE,
//               both naming the chain. The RNG keying is the same either way, so a chain given
//               the code the schedule would have given it samples bit for bit the same.
// Update        exactly as fixed-point firmware: for node i with neighbours j,
//                   h = b_i + sum_j J_ij s_j                          (int32)
//                   x = 2 * beta_code * h                             (int64; Q8.8 of 2 beta h)
//                   x = clamp(x, -4096, 4096)                         (|2 beta h| >= 16 acts as 16)
//                   T = LUT[x + 4096],  LUT[k] = round(2^24 * sigmoid((k - 4096) / 256))
//                   s_i = +1 iff r < T,  r = top 24 bits of the node's 32-bit RNG word.
//               The LUT has 8193 uint32 entries (LUT[0] = 2, LUT[4096] = 2^23, LUT[8192] =
//               16777214), built once with std::exp in double precision. So P(s_i = +1) =
//               T / 2^24 = sigmoid(2 beta h) within 2^-25, except that saturation caps the
//               probability at sigmoid(16) = 1 - 1.1e-7 (and 1.1e-7 at the other end).
//               Stationary law: P(s) ~ exp(beta (sum_edges J_ij s_i s_j + sum_i b_i s_i)).
//               A flawed board (imperfections=typical, board_imperfections.hpp) computes
//               x = 2 beta_code (g_i h + o_i) in double and interpolates the LUT linearly.
// Sweep         two-colour block Gibbs: every colour-0 node (row-major) from the colour-1
//               values, then every colour-1 node from the new colour-0 values. Clamped nodes
//               keep their clamped value and are never updated.
// RNG           Philox4x32-10 (Random123), key = {seed low 32, seed high 32}, counter =
//               {sweep index low 32, sweep index high 32, chain, (node / 4) | stream << 31}; node
//               i uses output word i % 4. Stream 0 drives updates (one word per node per
//               sweep), stream 1 the reset_state randomization (s_i = +1 iff bit 31 of the word
//               is set, at the sweep index of the run's first sweep). The sweep index is global
//               per board (0 at power-up; a run of B burn-in and S sweeps uses the next B + S
//               indices), so results depend only on (seed, sweep, chain, node), never on how
//               chains are spread over threads.
// Chains        up to 64 independent chains, each with its own spins; every chain starts at
//               s = +1 at power-up and continues from where it stopped (warm start) unless
//               StartSampling.reset_state. Clamped values are written into each chain of a run
//               before its first sweep.
// Runs          StartSampling{sweeps in [1, 2^32], chains in [1, 64], burn_in_sweeps in
//               [0, 2^32], sample_every in [1, sweeps], chain_beta_codes (see Chain beta)}
//               (INVALID_ARGUMENT otherwise). After the
//               burn-in, every chain is sampled after each sample_every-th sweep:
//               sample_count = chains * floor(sweeps / sample_every); first_tick (RunStarted) is
//               the global sweep index of the sweep after which the first sample is taken.
// Accumulation  per node, the int64 sum of s_i over all samples of all chains; with
//               accumulate_moments, per edge (canonical order) the int64 sum of s_i s_j; with
//               record_samples, every sample as bits (chain-major, then time; ceil(nodes / 8)
//               bytes per sample, node i in bit i % 8 of byte i / 8, set for +1). A run whose
//               recording would exceed max_record_bits = (max_frame_payload - 4096) * 8, or whose
//               SamplingResults could exceed max_frame_payload, is refused with
//               RESOURCE_EXHAUSTED at StartSampling.
// Result buffer results of up to 8 unread runs; a 9th evicts the oldest and increments
//               overflow_count (cumulative, reported in every SamplingResults).
// Clock         DeviceInfo.tick_rate_hz = sweep_rate_hz = 1e6 (a documented nominal rate: one
//               tick is one sweep), ticks_per_sample = 1.
// Identity      family BOARD_FAMILY_PBIT, model "pbit-gibbs", firmware "kelvin-sim 0.1.0",
//               kProtocolVersion (version.hpp), cell_count = nodes, capabilities SECOND_MOMENTS |
//               SAMPLE_RECORD | STATE_RESET | PER_CHAIN_BETA; the resonator DAC/ADC formats are
//               left unset and DeviceInfo.pbit carries the formats above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::sim_backend::pbit {

// Identity.
inline constexpr std::string_view kModel = "pbit-gibbs";
inline constexpr std::string_view kFirmwareVersion = "kelvin-sim 0.1.0";

// Geometry (defaults; limits live in kelvin/firmware_protocol/pbit_lattice.hpp).
inline constexpr std::uint32_t kDefaultRows = 70;
inline constexpr std::uint32_t kDefaultCols = 70;
inline constexpr std::uint32_t kDefaultDegree = 12;

// Weights: 4-bit two's complement with a magnitude cap.
inline constexpr std::uint32_t kWeightBits = 4;
inline constexpr int kWeightMaxMagnitude = 6;
// Biases: int8 without -128.
inline constexpr std::uint32_t kBiasBits = 8;
inline constexpr int kBiasMaxMagnitude = 127;
inline constexpr std::string_view kCouplingUnit = "J";

// Beta: uint16 Q8.8.
inline constexpr std::uint32_t kBetaBits = 16;
inline constexpr std::uint32_t kBetaMaxCode = 65535;
inline constexpr std::uint32_t kBetaOne = 256;  // code of beta = 1
inline constexpr double kBetaLsb = 1.0 / 256.0;
inline constexpr std::string_view kBetaUnit = "1/J";
inline constexpr std::size_t kMaxScheduleLength = 65536;

// Sigmoid table: x in Q8.8 over [-16, 16], thresholds against 24-bit uniform words.
inline constexpr std::int64_t kLutHalfRange = 16 * 256;
inline constexpr std::uint32_t kLutEntries = 2 * kLutHalfRange + 1;  // 8193
inline constexpr std::uint32_t kRngBits = 24;

// Runs.
inline constexpr std::uint32_t kMaxChains = 64;
inline constexpr std::uint64_t kMaxSweeps = std::uint64_t{1} << 32;
inline constexpr std::size_t kResultSlots = 8;
inline constexpr std::size_t kMaxFramePayload = kelvin::firmware_protocol::kMaxFramePayload;
inline constexpr std::size_t kRecordHeadroomBytes = 4096;
inline constexpr std::uint64_t kMaxRecordBits =
    std::uint64_t{kMaxFramePayload - kRecordHeadroomBytes} * 8;
inline constexpr double kSweepRateHz = 1e6;

// Capabilities (wire Capability bits): SECOND_MOMENTS | SAMPLE_RECORD | STATE_RESET |
// PER_CHAIN_BETA.
inline constexpr std::uint64_t kCapabilities = 1u | 2u | 4u | 128u;

// Bytes of one recorded sample of `nodes` nodes.
constexpr std::size_t sample_bytes(std::uint32_t nodes) {
  return (std::size_t{nodes} + 7) / 8;
}

static_assert(kLutEntries == 8193);

}  // namespace kelvin::sim_backend::pbit
