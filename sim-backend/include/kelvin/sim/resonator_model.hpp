// The emulated resonator board behind the firmware: its DAC registers, analog state, tick
// counter, runs with on-board accumulation, and the result buffer. It knows nothing about frames
// or envelopes; the firmware (resonator_firmware.hpp) translates requests into these calls and
// BoardError into wire Error replies. Numbers and behaviour follow resonator_registers.hpp.
//
// Thread contract: not thread-safe; one thread at a time (the firmware's caller) uses a model.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "kelvin/sim/board_error.hpp"
#include "kelvin/sim/gaussian_stream.hpp"
#include "kelvin/sim/resonator_config.hpp"
#include "kelvin/sim/result_buffer.hpp"
#include "kelvin/wire/v1/kelvin.pb.h"

namespace spdlog {
class logger;
}

namespace kelvin::sim {

struct RunRequest {
  std::uint64_t duration_ticks = 0;
  bool reset_state = false;
  bool accumulate_products = false;
  bool record_samples = false;
};

// What StartRun answers: the run's identity, fixed before the run is computed.
struct RunTicket {
  std::uint64_t run_id = 0;
  std::uint64_t first_tick = 0;  // tick of the run's first sample
  std::uint64_t sample_count = 0;
};

// Results of one finished run, as kept in the on-board result buffer.
struct RunRecord {
  RunTicket ticket;
  std::vector<std::int64_t> sums;          // per cell
  std::vector<std::int64_t> product_sums;  // upper triangle incl. diagonal, if requested
  std::uint64_t clipped_samples = 0;
  std::string samples_le16;  // sample-major int16 LE, if recorded (protobuf bytes type)
};

class ResonatorModel {
 public:
  // Powers the board up: x = 0, tick 0, biases and noise 0, couplings not programmed.
  // Throws std::invalid_argument if the config is invalid.
  explicit ResonatorModel(const ResonatorConfig& config);
  ~ResonatorModel();
  ResonatorModel(const ResonatorModel&) = delete;
  ResonatorModel& operator=(const ResonatorModel&) = delete;

  const ResonatorConfig& config() const noexcept { return config_; }
  std::uint32_t cells() const noexcept { return config_.cells; }

  // Register writes. Each validates the whole request before changing anything (BoardError with
  // INVALID_ARGUMENT or OUT_OF_RANGE), then updates the discretized dynamics.
  void program_couplings(std::uint32_t cells, std::span<const std::uint8_t> upper_codes_le16);
  void program_biases(std::uint32_t cells, std::span<const std::uint8_t> codes_le16);
  void set_noise(std::uint32_t code);

  // Validates a run and reserves it: assigns its id and first tick and advances the tick
  // counter. Throws BoardError (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, NOT_PROGRAMMED).
  RunTicket begin_run(const RunRequest& request);
  // Computes the run reserved by the last begin_run() and stores its results, evicting the
  // oldest unread results past the buffer's capacity. Throws std::logic_error if `ticket` is not
  // the pending run.
  void execute(const RunTicket& ticket);
  // Executes the pending run, if any.
  void finish_pending();

  // Stops a run in progress (execute() then returns without storing results) and refuses to
  // compute later ones. Safe from any thread.
  void power_off() noexcept { powered_.store(false, std::memory_order_relaxed); }
  bool powered() const noexcept { return powered_.load(std::memory_order_relaxed); }

  // The stored results of a run; BoardError(UNKNOWN_RUN) if never started, dropped or read.
  const RunRecord& results(std::uint64_t run_id) const;
  // Removes a run's results (after they were sent). No-op for unknown ids.
  void release(std::uint64_t run_id) noexcept;

  bool couplings_programmed() const noexcept { return programmed_; }
  std::uint64_t tick() const noexcept { return tick_; }
  std::uint64_t overflow_count() const noexcept { return results_.overflow_count(); }
  // Integration substeps per sample period (1 unless the overflow guard engaged).
  std::uint32_t substeps() const noexcept { return substeps_; }
  // The analog state in volts.
  std::span<const double> state() const noexcept { return x_; }

 private:
  void update_offset();
  void update_noise_factor();

  ResonatorConfig config_;
  GaussianStream noise_;
  std::shared_ptr<spdlog::logger> log_;

  // Registers.
  bool programmed_ = false;
  Eigen::VectorXd bias_;  // b, V/us
  std::uint32_t noise_code_ = 0;

  // Discretized dynamics of one substep (row-major copies for the hot loop).
  std::uint32_t substeps_ = 1;
  Eigen::MatrixXd gamma_;        // int_0^{h/m} expm(-A s) ds
  Eigen::MatrixXd unit_factor_;  // L1, L1 L1^T = Q for 2D = 1
  std::vector<double> phi_;      // expm(-A h/m), row-major
  std::vector<double> offset_;   // c = Gamma b
  std::vector<double> factor_;   // L = sqrt(2D) L1, row-major
  bool noisy_ = false;           // D > 0

  // State.
  std::vector<double> x_;
  std::uint64_t tick_ = 0;
  std::uint64_t next_run_id_ = 1;
  std::optional<std::pair<RunTicket, RunRequest>> pending_;
  ResultBuffer<RunRecord> results_;
  std::atomic<bool> powered_{true};
};

}  // namespace kelvin::sim
