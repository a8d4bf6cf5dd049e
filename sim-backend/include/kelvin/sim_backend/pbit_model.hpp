// The emulated p-bit board behind the firmware: its weight, bias, clamp and beta registers, the
// sigmoid table, the chains' spins, sampling runs with on-board accumulation, and the result
// buffer. It knows nothing about frames or envelopes; the firmware (pbit_firmware.hpp)
// translates requests into these calls and BoardError into wire Error replies. Numbers and
// behaviour follow pbit_registers.hpp.
//
// Thread contract: not thread-safe; one thread at a time (the firmware's caller) uses a model.
// execute() may internally run chains on up to two worker threads (set_threads) and joins them
// before it returns; power_off() is safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "kelvin/sim_backend/board_error.hpp"
#include "kelvin/sim_backend/gaussian_stream.hpp"
#include "kelvin/sim_backend/pbit_config.hpp"
#include "kelvin/sim_backend/pbit_registers.hpp"
#include "kelvin/sim_backend/result_buffer.hpp"

namespace spdlog {
class logger;
}

namespace kelvin::sim_backend {
namespace detail {
struct LaneTables;
}

struct SamplingRequest {
  std::uint64_t sweeps = 0;
  std::uint32_t chains = 1;
  std::uint64_t burn_in_sweeps = 0;
  std::uint32_t sample_every = 1;
  bool accumulate_moments = false;
  bool record_samples = false;
  bool reset_state = false;
  // Empty: every chain follows the schedule; else one beta code per chain for every sweep of
  // the run (pbit_registers.hpp, "Chain beta").
  std::vector<std::uint32_t> chain_beta_codes;
};

// What StartSampling answers: the run's identity, fixed before the run is computed.
struct SamplingTicket {
  std::uint64_t run_id = 0;
  std::uint64_t first_tick = 0;    // global sweep index after which the first sample is taken
  std::uint64_t first_sweep = 0;   // global sweep index of the run's first (burn-in) sweep
  std::uint64_t sample_count = 0;  // over all chains
};

// Results of one finished run, as kept in the on-board result buffer.
struct SamplingRecord {
  SamplingTicket ticket;
  SamplingRequest request;
  std::vector<std::int64_t> spin_sums;  // per node
  std::vector<std::int64_t> edge_sums;  // per edge, if requested
  std::string samples_bits;             // if recorded (protobuf bytes type)
};

class PbitModel {
 public:
  // Powers the board up: all spins +1, weights and biases 0, no clamps, schedule [256], sweep 0.
  // Throws std::invalid_argument if the config is invalid.
  explicit PbitModel(const PbitConfig& config);
  ~PbitModel();
  PbitModel(const PbitModel&) = delete;
  PbitModel& operator=(const PbitModel&) = delete;

  const PbitConfig& config() const noexcept { return config_; }
  const firmware_protocol::PbitLattice& lattice() const noexcept { return lattice_; }
  std::uint32_t nodes() const noexcept { return lattice_.nodes(); }

  // Register writes. Each validates the whole request before changing anything (BoardError
  // with INVALID_ARGUMENT or OUT_OF_RANGE).
  void program_lattice(std::uint32_t nodes, std::span<const std::uint8_t> weights_i8,
                       std::span<const std::uint8_t> biases_i8);
  void set_clamps(std::span<const std::uint32_t> nodes, std::span<const std::uint8_t> values_i8);
  void set_beta_schedule(std::span<const std::uint32_t> beta_codes);

  // Worker threads for the chains of a run: 1 or 2 (default 2). Results do not depend on it.
  void set_threads(unsigned threads);
  // Whether runs may use the vector sweep (up to 32 chains per group, one per lane; AVX-512,
  // where the CPU has it) instead of the scalar loop, for an ideal board without noisy or
  // offset defects. Default true. The samples are the same bit for bit either way; tests and
  // benchmarks turn it off to compare.
  void set_vector_sweep(bool enabled) noexcept { vector_sweep_ = enabled; }
  // True if runs of this board (as programmed) use the vector sweep.
  bool uses_vector_sweep() const noexcept;

  // Validates a run and reserves it: assigns its id and sweep indices. Throws BoardError
  // (INVALID_ARGUMENT, RESOURCE_EXHAUSTED).
  SamplingTicket begin_run(const SamplingRequest& request);
  // Computes the run reserved by the last begin_run() and stores its results, evicting the
  // oldest unread results past the buffer's capacity. Throws std::logic_error if `ticket` is not
  // the pending run.
  void execute(const SamplingTicket& ticket);
  // Executes the pending run, if any.
  void finish_pending();

  // Stops a run in progress (execute() then returns without storing results) and refuses to
  // compute later ones. Safe from any thread.
  void power_off() noexcept { powered_.store(false, std::memory_order_relaxed); }
  bool powered() const noexcept { return powered_.load(std::memory_order_relaxed); }

  // The stored results of a run; BoardError(UNKNOWN_RUN) if never started, dropped or read.
  const SamplingRecord& results(std::uint64_t run_id) const;
  // Removes a run's results (after they were sent). No-op for unknown ids.
  void release(std::uint64_t run_id) noexcept;

  std::uint64_t sweep() const noexcept { return sweep_; }
  std::uint64_t overflow_count() const noexcept { return results_.overflow_count(); }
  // The spins of one chain (0..max_chains-1), +1 or -1 per node.
  std::span<const std::int8_t> spins(std::uint32_t chain) const;

  // The sigmoid threshold table (pbit_registers.hpp): LUT[k] = round(2^24 sigmoid((k-4096)/256)).
  static const std::array<std::uint32_t, pbit::kLutEntries>& lut();
  // T for a local field h at beta code beta_code (saturating): the update compares r < T.
  static std::uint32_t threshold(std::uint32_t beta_code, std::int32_t h) noexcept;
  // Bits of a node's injected defects (board_defects.hpp).
  enum DefectBits : std::uint8_t { kNoisy = 1, kOffset = 2, kStuck = 4 };
  // T of a p-bit with noisy and/or offset defects: its sigmoid's argument 2 beta h divided by
  // kDefectNoiseFactor (noisy), then shifted by kDefectSigmoidOffset (offset).
  static std::uint32_t defective_threshold(std::uint8_t defects, std::uint32_t beta_code,
                                           std::int32_t h) noexcept;
  // T of p-bit i of a flawed board (imperfections, board_imperfections.hpp): the sigmoid of
  // 2 beta (g_i h + o_i), the LUT interpolated linearly, then any defects of the p-bit as above.
  std::uint32_t flawed_threshold(std::uint32_t i, std::uint32_t beta_code,
                                 std::int32_t h) const noexcept;

 private:
  struct Accumulator {
    std::vector<std::int64_t> spin_sums;
    std::vector<std::int64_t> edge_sums;
  };
  struct RunPlan;  // what every chain of a run shares (pbit_run.cpp)
  // A chain's spins before its first sweep: reset_state randomization, stuck and clamped nodes.
  void prepare_chain(std::uint32_t chain, const SamplingTicket& ticket,
                     const SamplingRequest& request);
  void run_chain(std::uint32_t chain, const RunPlan& plan, Accumulator& acc,
                 std::string& samples_bits, std::atomic<bool>& aborted);
  // Chains [first, first + count), count <= 32, on the vector sweep (pbit_lanes.hpp).
  void run_lanes(std::uint32_t first, std::uint32_t count, const RunPlan& plan, Accumulator& acc,
                 std::string& samples_bits, std::atomic<bool>& aborted);
  // Rebuilds lane_tables_ from the couplings and biases (after program_lattice).
  void build_lane_tables();

  PbitConfig config_;
  firmware_protocol::PbitLattice lattice_;
  GaussianStream rng_;  // its raw Philox block() is the board's RNG (same counter layout)
  std::shared_ptr<spdlog::logger> log_;
  unsigned threads_ = 2;
  bool vector_sweep_ = true;

  // Registers.
  std::vector<std::int8_t> weights_;  // per edge
  std::vector<std::int8_t> biases_;   // per node
  std::vector<std::int8_t> clamp_;    // per node: 0 free, else the clamped value
  std::vector<std::uint32_t> schedule_{pbit::kBetaOne};
  // Non-zero couplings per node (CSR), rebuilt by program_lattice.
  std::vector<std::uint32_t> row_start_;
  std::vector<std::uint32_t> col_node_;
  std::vector<std::int8_t> col_weight_;
  // The same couplings padded to fixed-length rows for the vector sweep.
  std::shared_ptr<const detail::LaneTables> lane_tables_;
  // DefectBits per node; empty when no node has a stuck, noisy or offset defect.
  std::vector<std::uint8_t> node_defects_;
  // Sigmoid gain g_i and offset o_i per node; empty on an ideal board (the exact integer path).
  std::vector<double> sigmoid_gain_;
  std::vector<double> sigmoid_offset_;

  // State.
  std::vector<std::int8_t> spins_;  // max_chains x nodes
  std::uint64_t sweep_ = 0;
  std::uint64_t next_run_id_ = 1;
  std::optional<std::pair<SamplingTicket, SamplingRequest>> pending_;
  ResultBuffer<SamplingRecord> results_{pbit::kResultSlots};
  std::atomic<bool> powered_{true};
};

}  // namespace kelvin::sim_backend
