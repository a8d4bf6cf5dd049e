// What a board says about itself at hello, in host terms (see kelvin.wire.v1.DeviceInfo).
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

// Bits of DeviceDescription::capabilities (kelvin.wire.v1.Capability).
namespace capability {
inline constexpr std::uint64_t kSecondMoments = 1;  // runs can accumulate sums of x_i x_j
inline constexpr std::uint64_t kSampleRecord = 2;   // runs can return every raw sample
inline constexpr std::uint64_t kStateReset = 4;     // runs can start from x = 0
}  // namespace capability

// Names of the set bits ("second_moments", "sample_record", "state_reset"; "bit_N" if unknown).
std::vector<std::string> capability_names(std::uint64_t bits);

// What a p-bit (stochastic-bit lattice) board adds (kelvin.wire.v1.PbitInfo). Codes are in
// coupling units: weight J_ij per edge, bias b_i per node, beta (inverse temperature) Q8.8.
struct PbitDescription {
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::uint32_t degree = 0;      // 8, 12 or 16
  std::uint32_t edge_count = 0;  // of the lattice (kelvin/protocol/pbit_lattice.hpp)
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
  std::uint64_t capabilities = 0;  // kelvin.wire.v1.Capability bits
  std::uint32_t max_frame_payload = 0;
  std::uint64_t max_samples_per_run = 0;
  std::uint32_t max_record_samples = 0;

  // Set for BoardFamily::kPbit only (validated when the device is opened).
  std::optional<PbitDescription> pbit;

  double sample_rate_hz() const noexcept {
    return ticks_per_sample ? tick_rate_hz / ticks_per_sample : 0.0;
  }
  double sample_period_s() const noexcept {
    return tick_rate_hz > 0.0 ? ticks_per_sample / tick_rate_hz : 0.0;
  }
  bool has_capability(std::uint64_t bit) const noexcept { return (capabilities & bit) != 0; }
};

}  // namespace kelvin::driver
