// The emulated resonator board behind the firmware: its analog state, tick counter, runs with
// on-board accumulation, streams and the result buffer, over the register file
// (resonator_register_file.hpp) and the integrators (resonator_steppers.hpp). It knows nothing
// about frames, envelopes or protobuf; the firmware (resonator_firmware.hpp) translates requests
// into these calls and BoardError into wire Error replies. Register writes take their messages'
// cells field and LE16 bytes (wire_layout.hpp) as they come, so that every check of a write,
// sizes included, is made in one place. Numbers and behaviour follow resonator_registers.hpp.
//
// The member functions live in one file per job: resonator_model.cpp (power-up, register
// writes), resonator_run.cpp (runs, the ADC and the result buffer), resonator_stream.cpp
// (streams).
//
// Thread contract: not thread-safe; one thread at a time (the firmware's caller) uses a model;
// power_off() and powered() are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/sim_backend/board_error.hpp"
#include "kelvin/sim_backend/board_imperfections.hpp"
#include "kelvin/sim_backend/gaussian_stream.hpp"
#include "kelvin/sim_backend/resonator_config.hpp"
#include "kelvin/sim_backend/resonator_register_file.hpp"
#include "kelvin/sim_backend/resonator_steppers.hpp"
#include "kelvin/sim_backend/result_buffer.hpp"
#include "kelvin/sim_backend/sample_ring.hpp"

namespace spdlog {
class logger;
}

namespace kelvin::sim_backend {

struct RunRequest {
  std::uint64_t duration_ticks = 0;
  bool reset_state = false;
  bool accumulate_products = false;
  bool record_samples = false;
  Dynamics dynamics = Dynamics::kOverdamped;
  std::uint32_t decimation = 1;  // ADC samples per output sample (0 is taken as 1)
  bool average = false;          // output the rounded mean of the block instead of its last
};

struct StreamRequest {
  Dynamics dynamics = Dynamics::kOverdamped;
  std::uint32_t decimation = 1;
  bool average = false;
  bool reset_state = false;
  std::uint64_t start_tick = 0;  // 0: now (v5 timed start)
};

struct StreamTicket {
  std::uint64_t stream_id = 0;
  std::uint64_t first_tick = 0;
  std::uint64_t ticks_per_output_sample = 0;
  std::uint64_t ring_capacity_samples = 0;
};

// One ReadStream's worth: the samples and the stream's counters after the read.
struct StreamRead {
  std::uint64_t stream_id = 0;
  SampleRing::Chunk chunk;
  std::uint64_t first_tick = 0;
  std::uint64_t produced = 0;
  std::uint64_t lost = 0;
  std::uint64_t overruns = 0;
  std::uint64_t buffered = 0;  // produced - (chunk.first_sequence + chunk.count)
  bool running = false;
  double clock_slip_us = 0.0;
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
  std::vector<std::int64_t> product_sums;  // upper-triangle order (wire_layout.hpp), if requested
  std::uint64_t clipped_samples = 0;
  // Sample-major LE16 codes (wire_layout.hpp), if recorded: kept as the reply will carry them,
  // so that ReadResults copies the record instead of encoding it.
  std::string samples_le16;
};

class ResonatorModel {
 public:
  // Powers the board up: x = 0, tick 0, biases, noise and J4 0, couplings not programmed.
  // Throws std::invalid_argument if the config is invalid.
  explicit ResonatorModel(const ResonatorConfig& config);
  ~ResonatorModel();
  ResonatorModel(const ResonatorModel&) = delete;
  ResonatorModel& operator=(const ResonatorModel&) = delete;

  const ResonatorConfig& config() const noexcept { return config_; }
  std::uint32_t cells() const noexcept { return config_.cells; }

  // Register writes, with the cells field and LE16 bytes of their messages. Each validates the
  // whole request before changing anything (BoardError with INVALID_ARGUMENT for a wrong cells
  // field or byte count, OUT_OF_RANGE for a bad code), then updates the discretized dynamics.
  void program_couplings(std::uint32_t cells, std::span<const std::uint8_t> upper_codes_le16);
  void program_biases(std::uint32_t cells, std::span<const std::uint8_t> codes_le16);
  void set_noise(std::uint32_t code);
  void set_quartic(std::uint32_t cells, std::span<const std::uint8_t> codes_le16);

  // Validates a run and reserves it: assigns its id and first tick and advances the tick
  // counter. Throws BoardError (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, NOT_PROGRAMMED).
  RunTicket begin_run(const RunRequest& request);
  // Computes the run reserved by the last begin_run() and stores its results, evicting the
  // oldest unread results past the buffer's capacity. Throws std::logic_error if `ticket` is not
  // the pending run.
  void execute(const RunTicket& ticket);
  // Executes the pending run, if any.
  void finish_pending();
  // Brings the board up to date before a request: executes the pending run and produces the
  // stream samples that are due.
  void catch_up();

  // Streams (see resonator_registers.hpp). begin_stream throws BoardError(BUSY) while a stream
  // runs, and the same errors as begin_run for bad settings; read_stream throws
  // BoardError(NO_STREAM) before the first stream. Samples due are produced before each.
  // read_stream with from_sequence is the resumable read (SampleRing::read_from; a sequence
  // beyond every sample sent is BoardError(INVALID_ARGUMENT)); without, SampleRing::pop.
  StreamTicket begin_stream(const StreamRequest& request);
  StreamRead read_stream(std::uint64_t max_samples,
                         std::optional<std::uint64_t> from_sequence = std::nullopt);
  void stop_stream();
  // Fault injection: produces the samples due, then discards the ring's unread samples as an
  // overflow (SampleRing::discard_unread). Returns how many.
  std::uint64_t inject_overflow();
  bool streaming() const noexcept { return stream_.running; }

  // Stops a run in progress (execute() then returns without storing results) and refuses to
  // compute later ones. Safe from any thread.
  void power_off() noexcept { powered_.store(false, std::memory_order_relaxed); }
  bool powered() const noexcept { return powered_.load(std::memory_order_relaxed); }

  // The stored results of a run; BoardError(UNKNOWN_RUN) if never started, dropped or read.
  const RunRecord& results(std::uint64_t run_id) const;
  // Removes a run's results (after they were sent). No-op for unknown ids.
  void release(std::uint64_t run_id) noexcept;

  bool couplings_programmed() const noexcept { return registers_.programmed; }
  std::uint64_t tick() const noexcept { return tick_; }
  std::uint64_t overflow_count() const noexcept { return results_.overflow_count(); }
  // Integration substeps per sample period (1 unless the overflow guard engaged).
  std::uint32_t substeps() const noexcept { return steppers_.overdamped_substeps(); }
  // The capacitor voltages, in volts.
  std::span<const double> state() const noexcept { return {z_.data(), config_.cells}; }
  // The inductor currents, in amperes (0 unless an RLC run ran last).
  std::span<const double> currents() const noexcept {
    return {z_.data() + config_.cells, config_.cells};
  }
  // This board's flaws, as drawn from its serial (all neutral on an ideal board), with the noise
  // and ADC offset of injected noisy:C and offset:C defects (board_defects.hpp).
  const BoardImperfections& flaws() const noexcept { return flaws_; }

 private:
  static void check_mode(Dynamics dynamics);
  // Integrates one output sample (`decimation` ADC samples after `first_adc_index`) into
  // `codes`; returns whether any cell clipped.
  bool produce_output(Dynamics dynamics, std::uint32_t decimation, bool average,
                      std::uint64_t first_adc_index, std::span<std::int16_t> codes);
  void catch_up_stream();
  // BoardError(LATE_COMMAND, INVALID_ARGUMENT) for a timed start the board cannot honour.
  void check_start_tick(std::uint64_t start_tick) const;

  ResonatorConfig config_;
  GaussianStream noise_;
  std::shared_ptr<spdlog::logger> log_;
  BoardImperfections flaws_;
  // Cells whose ADC is stuck (defect stuck:C); empty when none is.
  std::vector<bool> stuck_;
  ResonatorRegisters registers_;
  ResonatorSteppers steppers_;
  // Scratch of produce_output().
  std::vector<std::int64_t> block_sums_;
  std::vector<std::int16_t> adc_codes_;

  // State: z = [v; i], capacitor voltages then inductor currents.
  std::vector<double> z_;
  std::uint64_t tick_ = 0;
  std::uint64_t next_run_id_ = 1;
  std::optional<std::pair<RunTicket, RunRequest>> pending_;
  ResultBuffer<RunRecord> results_;
  std::atomic<bool> powered_{true};

  // Streaming.
  struct StreamState {
    std::uint64_t id = 0;
    StreamRequest request;
    bool running = false;
    std::uint64_t start_tick = 0;  // tick before the first ADC sample
    std::chrono::nanoseconds start_time{0};
    std::chrono::nanoseconds slip{0};  // device time the emulator fell behind
  };
  std::uint64_t next_stream_id_ = 1;
  StreamState stream_;
  SampleRing ring_;
  BoardClock clock_;
};

}  // namespace kelvin::sim_backend
