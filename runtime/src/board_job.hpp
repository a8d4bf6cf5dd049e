// What every resonator job owns from its first line to its last: the total deadline, the board's
// counters at the start (for the energy ledger), the wall clock, the count of sample periods the
// board ran, and, at the end, the shared summary block (job_summary.hpp). The jobs (solve, block
// solve, inverse, log-det, natural gradient) build one BoardJob each and never call each other's
// public entry points: they share this and the problem compiler instead.
//
// Thread contract: a BoardJob and its board are used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/problem_compiler.hpp"

namespace kelvin::runtime::detail {

class BoardJob {
 public:
  // Starts the wall clock, snapshots the board's counters and sets the deadline `timeout` from
  // now. Throws common::Error(kInvalidArgument) for a timeout <= 0.
  BoardJob(driver::ResonatorBoard& board, std::chrono::milliseconds timeout);
  // The same job continuing under an existing deadline (a block solve's blocks).
  BoardJob(driver::ResonatorBoard& board, common::Deadline deadline);

  driver::ResonatorBoard& board() const noexcept { return board_; }
  const driver::DeviceDescription& description() const noexcept { return board_.description(); }
  common::Deadline deadline() const noexcept { return deadline_; }
  double sample_period_us() const noexcept { return description().sample_period_s() * 1e6; }

  // Whole sample periods (at least one) in `relaxation_times` relaxation times of
  // `relaxation_time_us` each.
  std::uint64_t periods_for(double relaxation_times, double relaxation_time_us) const noexcept;
  // One run; its samples count toward the job's device time.
  driver::RunResult run(const driver::RunRequest& request);
  // The calibration this job applies to its read-out (none until apply_calibration()).
  // apply_calibration() resolves the selection on this board (calibration_file.hpp); it throws
  // common::Error(kInvalidArgument) for a file that is malformed or for another board.
  void apply_calibration(const runtime::calibration::CalibrationSelection& selection);
  void apply_calibration(runtime::calibration::AppliedCalibration applied) {
    calibration_ =
        std::make_shared<const runtime::calibration::AppliedCalibration>(std::move(applied));
  }
  // A shared one (a CalibrationCache's), not copied.
  void apply_calibration(std::shared_ptr<const runtime::calibration::AppliedCalibration> applied) {
    calibration_ = std::move(applied);
  }
  const runtime::calibration::AppliedCalibration& applied_calibration() const noexcept {
    return *calibration_;
  }
  // Marks the job as the calibration measurement itself: no "no calibration" warning.
  void measuring_calibration() noexcept { measuring_calibration_ = true; }
  // Cell i's (mean) ADC code in device volts, corrected by the applied calibration.
  double volts(std::uint32_t cell, double code) const {
    return calibration_->volts(cell, code, description().adc);
  }
  // The mean of each of the first n cells over one run, in corrected device volts.
  Eigen::VectorXd mean_volts(const driver::RunResult& result, Eigen::Index n) const;

  // Programs couplings, biases and noise.
  void program(const ProgrammedSystem& codes, std::uint32_t noise_code);
  // Sample periods run so far (what run() saw, plus what add_samples() added).
  std::uint64_t samples() const noexcept { return samples_; }
  void add_samples(std::uint64_t samples) noexcept { samples_ += samples; }

  // Fills the shared block: serial, cells, the applied calibration, device time of samples(),
  // wall time since the start and the energy ledger since the snapshot with these host and GPU
  // FLOPs; and, without a calibration, adds uncalibrated_flaws_warning() to its warnings.
  void finish(JobSummary& summary, double host_flops, double gpu_flops) const;

 private:
  driver::ResonatorBoard& board_;
  std::chrono::steady_clock::time_point wall_start_;
  BoardSnapshot energy_start_;
  common::Deadline deadline_;
  std::uint64_t samples_ = 0;
  std::shared_ptr<const runtime::calibration::AppliedCalibration> calibration_ =
      std::make_shared<const runtime::calibration::AppliedCalibration>();
  bool measuring_calibration_ = false;
};

// Copies a compiled system's scales into a Summary that reports them: coupling_scale,
// noise_code, the spectrum in user units, the matrix quantization error, and diffusion and
// state_scale where the Summary has them.
template <typename Summary>
void record_scaling(const CompiledSystem& sys, Summary& s) {
  s.coupling_scale = sys.coupling_scale;
  s.noise_code = sys.noise_code;
  s.lambda_min = sys.device_lambda_min / sys.coupling_scale;
  s.lambda_max = sys.device_lambda_max / sys.coupling_scale;
  s.matrix_quantization_error = sys.matrix_quantization_error;
  if constexpr (requires { s.diffusion; })
    s.diffusion = sys.diffusion;
  if constexpr (requires { s.state_scale; })
    s.state_scale = sys.state_scale;
}

// The warning every job on `d` carries when the board states component spreads (a real board, or
// an emulated one with imperfections=typical) and no calibration is applied; nullopt for an
// ideal board.
std::optional<std::string> uncalibrated_flaws_warning(const driver::DeviceDescription& d);

// Checks a job's timeout option: > 0. Throws common::Error(kInvalidArgument) naming `owner`.
void check_timeout(const char* owner, std::chrono::milliseconds timeout);

}  // namespace kelvin::runtime::detail
