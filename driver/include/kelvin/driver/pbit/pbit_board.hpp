// The p-bit TSU board's API: lattice weights and biases, clamps, beta schedules, per-chain betas
// and sampling runs, in the board's integer codes, validated against the board's own
// DeviceDescription before anything is sent (sizes, |J| cap, bias and beta ranges, chains,
// record limits, capabilities). The
// wire mapping lives apart, in src/pbit/pbit_protocol, as for the resonator board.
//
// Thread contract: a PbitBoard forwards to its Device, so its calls may come from several
// threads and are serialized per request; a sequence such as program -> sample is not atomic,
// so a caller that shares one board between threads must hold its own lock around sequences.
// lattice() and description() are immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/device.hpp"
#include "kelvin/firmware_protocol/pbit_lattice.hpp"

namespace kelvin::driver {

// Codes for ProgramLattice: one weight per lattice edge (canonical order, see
// kelvin/firmware_protocol/pbit_lattice.hpp) and one bias per node.
struct LatticeProgram {
  std::vector<std::int8_t> weights;
  std::vector<std::int8_t> biases;
};

struct PbitClamp {
  std::uint32_t node = 0;
  int value = 1;  // +1 or -1
};

struct SamplingRequest {
  std::uint64_t sweeps = 1000;       // after burn-in; >= 1
  std::uint32_t chains = 1;          // 1..max_chains independent chains
  std::uint64_t burn_in_sweeps = 0;  // sweeps before sampling starts
  std::uint32_t sample_every = 1;    // 1..sweeps: one sample per chain every this many sweeps
  bool accumulate_moments = false;   // sum s_i s_j per lattice edge
  bool record_samples = false;       // return every sample as bits (bounded by max_record_bits)
  bool reset_state = false;          // randomize the chains first (else: warm start)
  // Empty (default): every chain follows the beta schedule. Otherwise exactly `chains` beta
  // codes; chain c uses chain_beta_codes[c] on every sweep of this run, burn-in included
  // (replicas at different temperatures). Needs capability::kPerChainBeta (since protocol v4).
  std::vector<std::uint32_t> chain_beta_codes;

  // chains * floor(sweeps / sample_every).
  std::uint64_t sample_count() const noexcept {
    return sample_every ? std::uint64_t{chains} * (sweeps / sample_every) : 0;
  }
};

struct SamplingTicket {
  std::uint64_t run_id = 0;
  std::uint64_t first_tick = 0;  // global sweep index of the first sample
  std::uint64_t sample_count = 0;
};

// What the board accumulated during one sampling run.
struct SamplingResult {
  std::uint64_t run_id = 0;
  std::uint32_t nodes = 0;
  std::uint32_t chains = 0;
  std::uint64_t sweeps = 0;
  std::uint64_t first_tick = 0;
  std::uint64_t sample_count = 0;          // over all chains
  std::vector<std::int64_t> spin_sums;     // per node
  std::vector<std::int64_t> edge_sums;     // per lattice edge, if accumulate_moments
  std::vector<std::uint8_t> samples_bits;  // if recorded (see kelvin.proto SamplingResults)
  std::uint64_t overflow_count = 0;

  // <s_i> = spin_sums[i] / sample_count.
  double mean(std::uint32_t node) const;
  // <s_i s_j> of lattice edge e. Requires accumulate_moments.
  double edge_correlation(std::uint32_t edge) const;
  // Number of recorded samples (0 unless record_samples).
  std::uint64_t recorded_samples() const noexcept;
  // Spin (+1 or -1) of `node` in recorded sample k (chain-major, then time).
  int recorded_spin(std::uint64_t sample, std::uint32_t node) const;
};

class PbitBoard {
 public:
  // Throws Error(kNotSupported) if the device is not a p-bit board.
  explicit PbitBoard(std::shared_ptr<Device> device);

  const DeviceDescription& description() const noexcept { return device_->description(); }
  const PbitDescription& pbit() const noexcept { return *description().pbit; }
  const firmware_protocol::PbitLattice& lattice() const noexcept { return lattice_; }
  std::uint32_t nodes() const noexcept { return lattice_.nodes(); }
  Device& device() noexcept { return *device_; }

  // The nearest beta code for an inverse temperature; Error(kOutOfRange) outside the range.
  std::uint32_t beta_code(double beta) const;

  // Throw Error(kInvalidArgument) for size mismatches or malformed input, Error(kOutOfRange)
  // for codes outside the board's ranges (naming the edge or node), Error(kDevice) if the board
  // refuses.
  void program_lattice(std::span<const std::int8_t> weights, std::span<const std::int8_t> biases,
                       common::Deadline deadline);
  void program_lattice(const LatticeProgram& program, common::Deadline deadline) {
    program_lattice(program.weights, program.biases, deadline);
  }
  // Replaces every clamp; an empty list clears them.
  void set_clamps(std::span<const PbitClamp> clamps, common::Deadline deadline);
  void set_beta_schedule(std::span<const std::uint32_t> beta_codes, common::Deadline deadline);

  SamplingTicket start_sampling(const SamplingRequest& request, common::Deadline deadline);
  SamplingResult read_results(std::uint64_t run_id, common::Deadline deadline);
  // start_sampling + read_results within one deadline.
  SamplingResult sample(const SamplingRequest& request, common::Deadline deadline);

 private:
  std::shared_ptr<Device> device_;
  firmware_protocol::PbitLattice lattice_;
};

}  // namespace kelvin::driver
