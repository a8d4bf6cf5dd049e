// What a board says about itself at hello, in host terms (see
// kelvin.firmware_protocol.wire.DeviceInfo).
//
// Thread contract: a plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/driver/code_scale.hpp"

namespace kelvin::driver {

enum class BoardFamily { kResonator, kPbit };
const char* to_string(BoardFamily family) noexcept;

// Bits of DeviceDescription::capabilities (kelvin.firmware_protocol.wire.Capability).
namespace capability {
inline constexpr std::uint64_t kSecondMoments = 1;    // runs can accumulate sums of x_i x_j
inline constexpr std::uint64_t kSampleRecord = 2;     // runs can return every raw sample
inline constexpr std::uint64_t kStateReset = 4;       // runs can start from x = 0
inline constexpr std::uint64_t kRlcDynamics = 8;      // runs can integrate the RLC circuit
inline constexpr std::uint64_t kQuartic = 16;         // cells can have a quartic term J4 x^4
inline constexpr std::uint64_t kDecimation = 32;      // runs can decimate and average on board
inline constexpr std::uint64_t kStreaming = 64;       // free-running streams into a ring buffer
inline constexpr std::uint64_t kPerChainBeta = 128;   // p-bit runs can give each chain its beta
inline constexpr std::uint64_t kTimedStart = 256;     // streams can start at a given device tick
inline constexpr std::uint64_t kResumableRead = 512;  // stream reads can be asked for again
}  // namespace capability

// Names of the set bits ("second_moments", "sample_record", "state_reset", "rlc_dynamics",
// "quartic", "decimation", "streaming", "per_chain_beta", "timed_start", "resumable_read";
// "bit_N" if unknown).
std::vector<std::string> capability_names(std::uint64_t bits);

// What a p-bit (stochastic-bit lattice) board adds (kelvin.firmware_protocol.wire.PbitInfo). Codes
// are in coupling units: weight J_ij per edge, bias b_i per node, beta (inverse temperature) Q8.8.
struct PbitDescription {
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::uint32_t degree = 0;      // 8, 12 or 16
  std::uint32_t edge_count = 0;  // of the lattice (kelvin/firmware_protocol/pbit_lattice.hpp)
  CodeScale weight;
  CodeScale bias;
  CodeScale beta;
  std::uint32_t lut_entries = 0;
  std::uint32_t rng_bits = 0;
  std::uint32_t max_chains = 0;
  double sweep_rate_hz = 0.0;
  std::uint64_t max_record_bits = 0;
  std::uint32_t max_schedule_length = 0;

  std::uint32_t nodes() const noexcept { return rows * cols; }
};

// Dynamics a resonator run integrates (kelvin.firmware_protocol.wire.Dynamics).
enum class Dynamics { kOverdamped, kRlc };
const char* to_string(Dynamics dynamics) noexcept;  // "overdamped", "rlc"

// Which coupling matrices a resonator board realizes: any sign off the diagonal, or (coupling
// capacitors) only A_ij <= 0.
enum class CouplingKind { kSigned, kCapacitive };
const char* to_string(CouplingKind kind) noexcept;  // "signed", "capacitive"

// A board's component tolerances (half-widths of uniform spreads), as a datasheet states them.
struct ImperfectionSpec {
  std::string name;                // "ideal", "typical", ...
  double resistance = 0.0;         // relative, per cell
  double capacitance = 0.0;        // relative, per cell
  double noise = 0.0;              // relative noise amplitude, per cell
  double adc_offset_codes = 0.0;   // ADC codes, per cell
  double adc_gain = 0.0;           // relative, per cell
  double coupling_dac_gain = 0.0;  // relative, whole board
};

// What a resonator board of protocol version >= 3 adds
// (kelvin.firmware_protocol.wire.ResonatorInfo).
struct ResonatorDescription {
  CouplingKind coupling_kind = CouplingKind::kSigned;
  std::vector<Dynamics> dynamics;  // accepted by runs and streams
  CodeScale quartic;               // J4 per cell
  std::uint32_t quartic_substeps = 0;
  std::uint32_t max_decimation = 1;
  std::uint64_t ring_capacity_samples = 0;
  ImperfectionSpec imperfections;
  double resistance_ohm = 0.0;
  double inductance_henry = 0.0;
  double capacitance_per_unit = 0.0;      // F per 1/us of A (RLC dynamics)
  double noise_intensity_per_unit = 0.0;  // A^2 s per V^2/us of D
  double bias_current_per_unit = 0.0;     // A per V/us of b

  bool supports(Dynamics d) const noexcept;
};

struct DeviceDescription {
  BoardFamily family = BoardFamily::kResonator;
  std::string serial;
  std::string firmware_version;
  std::uint32_t protocol_version = 0;
  std::string model;  // dynamics model, e.g. "overdamped-ou"
  std::uint32_t cells = 0;

  CodeScale coupling;  // A_ij
  CodeScale bias;      // b_i
  CodeScale noise;     // D = 1/beta
  CodeScale adc;       // x_i

  double tick_rate_hz = 0.0;
  std::uint32_t ticks_per_sample = 0;
  std::uint64_t capabilities = 0;  // kelvin.firmware_protocol.wire.Capability bits
  std::uint32_t max_frame_payload = 0;
  std::uint64_t max_samples_per_run = 0;
  std::uint32_t max_record_samples = 0;

  // Set for BoardFamily::kPbit only (validated when the device is opened).
  std::optional<PbitDescription> pbit;
  // Set for BoardFamily::kResonator boards that describe themselves (protocol version >= 3).
  std::optional<ResonatorDescription> resonator;

  double sample_rate_hz() const noexcept {
    return ticks_per_sample ? tick_rate_hz / ticks_per_sample : 0.0;
  }
  double sample_period_s() const noexcept {
    return tick_rate_hz > 0.0 ? ticks_per_sample / tick_rate_hz : 0.0;
  }
  bool has_capability(std::uint64_t bit) const noexcept { return (capabilities & bit) != 0; }
};

}  // namespace kelvin::driver
